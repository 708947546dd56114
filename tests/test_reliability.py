"""Issue 5, "Survive the real portal": the `onboard` command against a portal that misbehaves.

Each test runs the real console script in its own process against the session's mock portal
and judges the outcome by the portal's oracle, not by what the robot says: every user
complete, nothing twice, nothing extra, nothing secret left in any file. A test comes in a
short form (a few users, part of `make test`) and a full form (marked `reliability`, run by
`make reliability`), which prints a table of figures at its end; docs/reliability.md keeps
the latest ones.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask
import pytest
from typer.testing import CliRunner

from mock_portal.server import PortalServer
from robots.cli import app
from robots.evidence import verify_run
from tests.conftest import Portal
from tests.robot_runs import (
    duplicates,
    files_holding,
    incomplete_users,
    onboard,
    robot_env,
    roster_rows,
    run_folders,
    start_onboard,
    write_roster,
)

pytestmark = pytest.mark.browser

BAD_ROSTERS = Path(__file__).parent / "rosters_bad"
SEED = 23  # the portal's fault dice and the kill moments; printed so a failure can be replayed


# -- running and watching the robot -----------------------------------------------------------
def wait_until(condition: Callable[[], bool], *, deadline: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` once `deadline` (monotonic) passes."""
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        pause.wait(0.05)


def start_run(portal: Portal, workdir: Path, roster: str, *args: str) -> subprocess.Popen[str]:
    """`onboard run ROSTER --workers 1 ARGS` in the background, output to files."""
    return start_onboard(portal, workdir, "run", roster, "--workers", "1", *args)


def output_of(workdir: Path) -> str:
    """The last background run's stdout and the tail of its stderr, for failure messages."""
    logs = sorted((workdir / "logs").glob("*.out"))
    if not logs:
        return ""
    out = logs[-1].read_text(errors="replace")
    err = logs[-1].with_suffix(".err").read_text(errors="replace")
    return f"stdout:\n{out}\nstderr (tail):\n{err[-3000:]}"


def sigterm_when(
    robot: subprocess.Popen[str], condition: Callable[[], bool], *, what: str, workdir: Path
) -> int:
    """SIGTERM the running robot once `condition` holds; returns its exit code."""
    try:
        wait_until(
            lambda: robot.poll() is not None or condition(),
            deadline=time.monotonic() + 180,
            what=what,
        )
        assert robot.poll() is None, f"the run ended before SIGTERM\n{output_of(workdir)}"
        robot.send_signal(signal.SIGTERM)
        return robot.wait(timeout=120)
    finally:
        if robot.poll() is None:
            robot.kill()
            robot.wait()


def descendants(pid: int) -> set[int]:
    """The processes under `pid` (the Playwright driver, Chromium's), read from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found.update(int(child) for child in children)
        todo.extend(int(child) for child in children)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            running.add(pid)
    return running


def new_run_folder(workdir: Path, before: list[Path]) -> Path:
    """The one run folder that appeared since `before` was listed."""
    added = [folder for folder in run_folders(workdir) if folder not in before]
    assert len(added) == 1, f"expected one new run folder, found {added}"
    return added[0]


def summary_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def counter(portal: Portal, name: str) -> int:
    return int(portal.state()["counters"][name])


def usernames(state: dict[str, Any]) -> set[str]:
    return {user["username"] for user in state["users"]}


def print_figures(title: str, figures: dict[str, object]) -> None:
    """A two-column table on stdout (visible under `pytest -s`), for docs/reliability.md."""
    width = max(len(name) for name in figures)
    print(f"\n{title}")
    print(f"| {'figure'.ljust(width)} | value |")
    print(f"| {'-' * width} | ----- |")
    for name, value in figures.items():
        print(f"| {name.ljust(width)} | {value} |")


@contextmanager
def sign_in_posts(server: PortalServer) -> Iterator[list[str]]:
    """The field names of every POST to the sign-in form that carries a password (one sign-in
    attempt each; the two-step form sends the username in an earlier POST).

    Counted through Flask's request_started signal, so the mock itself stays as it is (its
    counters.sign_ins counts only successful sign-ins).
    """
    seen: list[str] = []

    def received(_sender: flask.Flask, **_extra: object) -> None:
        request = flask.request
        if request.method == "POST" and request.path == "/" and "password" in request.form:
            seen.append(",".join(sorted(request.form)))

    flask.request_started.connect(received, server.app)
    try:
        yield seen
    finally:
        flask.request_started.disconnect(received, server.app)


@contextmanager
def at_first_request(
    server: PortalServer,
    matches: Callable[[flask.Request], bool],
    action: Callable[[], None],
) -> Iterator[list[str]]:
    """Do `action` as the mock portal receives the first signed-in request that `matches`,
    before its own guard looks at it (Flask's request_started signal; the mock itself stays
    as it is); yields the request it acted on, once it came."""
    seen: list[str] = []

    def received(_sender: flask.Flask, **_extra: object) -> None:
        request = flask.request
        if not seen and flask.session.get("admin") and matches(request):
            seen.append(f"{request.method} {request.full_path}")
            action()

    flask.request_started.connect(received, server.app)
    try:
        yield seen
    finally:
        flask.request_started.disconnect(received, server.app)


def expire_session() -> None:
    """Make this request's session look idle for ages, as a portal's idle timeout may at any
    request: the mock answers as to any expired session (a 401 to a fetch, the sign-in screen
    to a page, nothing applied)."""
    flask.session["last_seen"] = -1e12


SIZES = [
    pytest.param(3, id="short"),
    pytest.param(40, id="full", marks=pytest.mark.reliability),
]


# -- 1 and 5: a flaky portal, and no secret left behind ---------------------------------------
@pytest.mark.reliability
@pytest.mark.parametrize("size", SIZES)
def test_a_flaky_portal_ends_with_every_user_complete_exactly_once(
    portal: Portal, tmp_path: Path, size: int
) -> None:
    """Under latency, failed writes (half after applying), expiring sessions, a banner and an
    overlapping chat bubble, one run leaves every user complete, once, and nothing extra."""
    print(f"\nflaky portal: seed {SEED}, {size} users")
    portal.set_faults("flaky", seed=SEED)
    seed_users = usernames(portal.state())
    rows = roster_rows(size, prefix="fl")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    started = time.monotonic()
    done = onboard(
        portal,
        tmp_path,
        "run",
        "roster.csv",
        "--workers",
        "1",
        "--trace",
        "on",
        timeout=120 + 45 * size,
    )
    wall = time.monotonic() - started

    state = portal.state()
    folder = run_folders(tmp_path)[-1]
    summary = summary_of(folder)
    incomplete = incomplete_users(state, names)
    doubled = duplicates(state)
    figures = {
        "users": size,
        "users correct": size - len(incomplete),
        "duplicates": len(doubled),
        "extra users": len(usernames(state) - seed_users - set(names)),
        "retries": summary["retries"],
        "re-sign-ins": summary["re_sign_ins"],
        "errors injected": state["counters"]["errors_injected"],
        "saves": state["counters"]["saves"],
        "exit code": done.returncode,
        "wall time (s)": round(wall, 1),
    }
    print_figures(f"Flaky portal, {size} users, seed {SEED}", figures)
    assert doubled == []
    assert usernames(state) == seed_users | set(names)
    assert list(folder.glob("traces/*.zip")), "--trace on left no trace to search for secrets"
    assert files_holding(tmp_path, portal.secrets()) == []
    assert incomplete == {}
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]


# Seed 7 fails the 4th, 6th, 7th and 8th accepted write (before, before, after and after
# applying it): a burst a flaky portal does produce, each failure recovered from on its own.
BURST_SEED = 7


@pytest.mark.reliability
def test_a_burst_of_recovered_failures_does_not_fail_the_users(
    portal: Portal, tmp_path: Path
) -> None:
    """A user through a burst of four failed writes: each is transient and recovered from on
    the next attempt, so the user ends complete and the run exits 0."""
    portal.set_faults("flaky", seed=BURST_SEED)
    rows = roster_rows(1, prefix="bu")
    write_roster(tmp_path / "roster.csv", rows)

    done = onboard(portal, tmp_path, "run", "roster.csv", "--workers", "1", timeout=240)

    summary = summary_of(run_folders(tmp_path)[-1])
    print(f"\nburst: {[(u['status'], u['attempts'], u['error']) for u in summary['users']]}")
    assert incomplete_users(portal.state(), [r["username"] for r in rows]) == {}
    assert done.returncode == 0, done.stdout


def _assign_search(request: flask.Request) -> bool:
    return request.path.endswith("/assign") and request.method == "GET" and "q" in request.args


def _users_search(request: flask.Request) -> bool:
    return request.path == "/users" and bool(request.args.get("q"))


def _create_user(request: flask.Request) -> bool:
    return request.method == "POST" and request.path == "/users/new"


def _assign_save(request: flask.Request) -> bool:
    return request.method == "POST" and request.path.endswith("/assign")


def _section_save(request: flask.Request) -> bool:
    return request.method == "POST" and request.path.startswith("/api/users/")


def _e911_save(request: flask.Request) -> bool:
    return request.method == "POST" and request.path.endswith("/e911")


def _assign_open(request: flask.Request) -> bool:
    return request.method == "GET" and request.path.endswith("/assign")


EXPIRY_POINTS = [
    # Found by this suite (a 40-user flaky run, twice): the search sent to sign-in listed
    # nobody and the user was refused for good. Fixed in c582889; kept in the short form.
    # The licence search is made by a user assigned alone (--license-batch 1), the batch's
    # Assign screen lists everyone unsearched.
    pytest.param(_assign_search, id="licence-search"),
    pytest.param(_assign_open, id="licence-batch-screen"),
    pytest.param(_users_search, id="users-search", marks=pytest.mark.reliability),
    pytest.param(_create_user, id="create-user", marks=pytest.mark.reliability),
    pytest.param(_e911_save, id="e911-save", marks=pytest.mark.reliability),
    pytest.param(_section_save, id="section-save", marks=pytest.mark.reliability),
    pytest.param(_assign_save, id="licence-save", marks=pytest.mark.reliability),
]


@pytest.mark.reliability
@pytest.mark.parametrize("point", EXPIRY_POINTS)
def test_a_session_expiring_at_any_request_is_signed_in_again(
    portal: Portal,
    portal_server: PortalServer,
    tmp_path: Path,
    point: Callable[[flask.Request], bool],
) -> None:
    """The session runs out at one chosen request (a search, a save): the robot signs in
    again and the user ends complete, never refused for what the sign-in screen hid."""
    rows = roster_rows(1, prefix="ex")
    write_roster(tmp_path / "roster.csv", rows)

    batch = "1" if point is _assign_search else "10"
    with at_first_request(portal_server, point, expire_session) as expired:
        done = onboard(
            portal, tmp_path, "run", "roster.csv", "--workers=1", f"--license-batch={batch}"
        )

    assert expired, "the chosen request never came"
    summary = summary_of(run_folders(tmp_path)[-1])
    print(f"\nexpired at {expired}: {[(u['status'], u['error']) for u in summary['users']]}")
    assert done.returncode == 0, done.stdout
    assert summary["re_sign_ins"] >= 1
    assert incomplete_users(portal.state(), [rows[0]["username"]]) == {}


# -- 2 and 5: killed at random moments ----------------------------------------------------------
KILLS = [
    # users, kills, and the range (in saves) from which the gap to the next kill is drawn:
    # 8 users make 40 saves, so 20 kills must come every 1 or 2 saves
    pytest.param(3, 3, (2, 5), id="short"),
    pytest.param(8, 20, (1, 2), id="full", marks=pytest.mark.reliability),
]


@pytest.mark.reliability
@pytest.mark.parametrize(("size", "kills", "gaps"), KILLS)
def test_runs_killed_at_random_saves_still_make_every_user_once(
    portal: Portal, tmp_path: Path, size: int, kills: int, gaps: tuple[int, int]
) -> None:
    """SIGKILLed whenever the portal has taken a randomly chosen number of saves more, then
    started again, the robot ends with every user complete, nothing twice, and a final run
    that has nothing left to save."""
    rng = random.Random(SEED)
    print(f"\nkilled runs: seed {SEED}, {size} users, {kills} kills")
    seed_users = usernames(portal.state())
    rows = roster_rows(size, prefix="kl")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    started = time.monotonic()
    deadline = started + 120 + 60 * size + 20 * kills
    killed = rounds = failed_runs = reaped = 0
    kill_points: list[int] = []
    exit_code: int | None = None
    while exit_code != 0:
        rounds += 1
        assert rounds <= kills + 5, f"no clean run after {rounds - 1} rounds\n{output_of(tmp_path)}"
        saves = counter(portal, "saves")
        robot = start_run(portal, tmp_path, "roster.csv")
        try:
            if killed < kills:
                target = saves + rng.randint(*gaps)
                browser: set[int] = set()

                def reached(
                    robot: subprocess.Popen[str] = robot,
                    target: int = target,
                    browser: set[int] = browser,
                ) -> bool:
                    browser.update(descendants(robot.pid))
                    return robot.poll() is not None or counter(portal, "saves") >= target

                wait_until(reached, deadline=deadline, what=f"save {target} (round {rounds})")
                if robot.poll() is None:
                    browser.update(descendants(robot.pid))
                    robot.kill()
                    robot.wait()
                    killed += 1
                    kill_points.append(target)
                    # The driver and Chromium notice their parent is gone and end too.
                    wait_until(
                        lambda browser=browser: not alive(browser),
                        deadline=time.monotonic() + 30,
                        what=f"the killed robot's browser processes {sorted(alive(browser))}",
                    )
                    reaped += len(browser)
                    continue
            exit_code = robot.wait(timeout=max(1.0, deadline - time.monotonic()))
            failed_runs += exit_code != 0
        finally:
            if robot.poll() is None:
                robot.kill()
                robot.wait()
    wall = time.monotonic() - started

    state = portal.state()
    saves = state["counters"]["saves"]
    before = run_folders(tmp_path)
    killed_runs = [f for f in before if not (f / "summary.json").is_file()]
    # A killed run has no closing line (verify calls it unfinished); its chain must be whole.
    broken = {f.name: verify_run(f).problems for f in killed_runs if verify_run(f).problems}
    final = onboard(portal, tmp_path, "run", "roster.csv", "--workers", "1", timeout=60 + 30 * size)
    after = portal.state()
    summaries = [summary_of(f) for f in run_folders(tmp_path) if (f / "summary.json").is_file()]
    incomplete = incomplete_users(after, names)
    doubled = duplicates(after)
    figures = {
        "users": size,
        "users correct": size - len(incomplete),
        "duplicates": len(doubled),
        "kills survived": killed,
        "kills at saves": " ".join(map(str, kill_points)),
        "rounds": rounds,
        "runs ending non-zero": failed_runs,
        "browser processes ended with the kills": f"{reaped} (none left running)",
        "killed runs whose audit log verifies": f"{len(killed_runs) - len(broken)}"
        f"/{len(killed_runs)}",
        "retries (all runs)": sum(s["retries"] for s in summaries),
        "re-sign-ins (all runs)": sum(s["re_sign_ins"] for s in summaries),
        "saves": saves,
        "saves by the final run": after["counters"]["saves"] - saves,
        "wall time (s)": round(wall, 1),
    }
    print_figures(f"Killed at random saves, {size} users, seed {SEED}", figures)
    assert killed >= kills, f"the roster was done after {killed} kills; widen the roster"
    assert broken == {}, "a SIGKILL broke the audit chain written before it"
    assert final.returncode == 0, final.stdout + final.stderr[-3000:]
    assert after["counters"]["saves"] == saves, "the final run still found something to save"
    assert summary_of(new_run_folder(tmp_path, before))["retries"] == 0
    assert incomplete == {}
    assert doubled == []
    assert usernames(after) == seed_users | set(names)
    assert files_holding(tmp_path, portal.secrets()) == []


# -- 3: SIGTERM ---------------------------------------------------------------------------------
@pytest.mark.reliability
def test_sigterm_after_the_first_user_stops_cleanly_and_a_rerun_finishes(
    portal: Portal, tmp_path: Path
) -> None:
    """SIGTERM once the first user is complete: exit 130, a summary marking the others
    interrupted or skipped, a report, an audit log that verifies; a rerun completes them."""
    seed_users = usernames(portal.state())
    rows = roster_rows(2, prefix="tm")
    names = [row["username"] for row in rows]
    write_roster(tmp_path / "roster.csv", rows)

    # One at a time: with licences in batches no user is complete before the last one is.
    robot = start_run(portal, tmp_path, "roster.csv", "--license-batch", "1")
    code = sigterm_when(
        robot,
        lambda: not incomplete_users(portal.state(), names[:1]),
        what=f"{names[0]} to be complete",
        workdir=tmp_path,
    )

    assert code == 130, output_of(tmp_path)
    [folder] = run_folders(tmp_path)
    summary = summary_of(folder)
    statuses = {user["username"]: user["status"] for user in summary["users"]}
    print(f"\nafter SIGTERM: {statuses}")
    assert summary["stopped"] == "interrupted"
    assert summary["exit_code"] == 130
    stopped = {name for name, status in statuses.items() if status != "complete"}
    assert stopped, f"SIGTERM stopped nobody: {statuses}"
    assert {statuses[name] for name in stopped} <= {"interrupted", "skipped"}, statuses
    completed = [name for name, status in statuses.items() if status == "complete"]
    assert incomplete_users(portal.state(), completed) == {}
    assert (folder / "report.html").is_file()
    verified = onboard(portal, tmp_path, "verify", str(folder))
    assert verified.returncode == 0, verified.stdout + verified.stderr

    rerun = onboard(portal, tmp_path, "run", "roster.csv", "--workers", "1", timeout=300)
    state = portal.state()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]
    assert incomplete_users(state, names) == {}
    assert duplicates(state) == []
    assert usernames(state) == seed_users | set(names)
    assert files_holding(tmp_path, portal.secrets()) == []


@pytest.mark.reliability
def test_a_user_finished_as_sigterm_arrives_is_reported_complete(
    portal: Portal, portal_server: PortalServer, tmp_path: Path
) -> None:
    """SIGTERM lands while the portal takes the user's last save (the licence): the user is
    complete in the portal, so summary.json must say complete, not interrupted."""
    rows = roster_rows(1, prefix="ls")
    write_roster(tmp_path / "roster.csv", rows)
    robot: list[subprocess.Popen[str]] = []

    def terminate() -> None:
        robot[0].send_signal(signal.SIGTERM)

    with at_first_request(portal_server, _assign_save, terminate) as saved:
        robot.append(start_run(portal, tmp_path, "roster.csv"))
        try:
            code = robot[0].wait(timeout=180)
        finally:
            if robot[0].poll() is None:
                robot[0].kill()
                robot[0].wait()

    assert saved, f"the licence was never saved\n{output_of(tmp_path)}"
    assert code in (0, 130), output_of(tmp_path)
    assert incomplete_users(portal.state(), [rows[0]["username"]]) == {}
    [user] = summary_of(run_folders(tmp_path)[-1])["users"]
    assert (user["status"], user["error"]) == ("complete", None)


# -- 4: the bad roster corpus -------------------------------------------------------------------
# file -> (exit code of `check`, of `check --strict`, rows accepted, (row, column) of problems)
BAD_CORPUS: dict[str, tuple[int, int, list[int], list[tuple[int | None, str | None]]]] = {
    "binary.csv": (1, 1, [], [(None, None)]),
    "bom_only.csv": (1, 1, [], [(None, None)]),
    "cp1252.csv": (0, 1, [2, 3], []),
    "duplicate_identity.csv": (
        1,
        1,
        [6],
        [
            (2, "username"),
            (3, "username"),
            (4, "email"),
            (4, "phone_number"),
            (5, "email"),
            (5, "phone_number"),
        ],
    ),
    "formula_starts.csv": (
        1,
        1,
        [6],
        [(2, "first_name"), (3, "last_name"), (4, "email"), (5, "location"), (7, "first_name")],
    ),
    "header_only.csv": (0, 1, [], []),
    "huge_cells.csv": (1, 1, [2], [(3, "first_name"), (4, "last_name"), (5, "location")]),
    "latin1.csv": (0, 1, [2, 3], []),
    "missing_columns.csv": (1, 1, [], [(1, "last_name"), (1, "location")]),
    "mixed.csv": (
        1,
        1,
        [2, 5],
        [
            (3, "first_name"),
            (4, "email"),
            (6, "location"),
            (7, "username"),
            (8, "username"),
            (9, "first_name"),
        ],
    ),
    "names.csv": (0, 0, [2, 3, 4, 5, 6], []),
    "old_excel.csv": (1, 1, [], [(None, None)]),
    "stray_whitespace.csv": (0, 0, [2, 3], []),
    "unknown_columns.csv": (1, 1, [], [(1, "department"), (1, "manager")]),
    "utf16_tabs.csv": (0, 0, [2], []),
    "utf8_bom.csv": (0, 0, [2, 3], []),
    "whitespace_only.csv": (1, 1, [], [(None, None)]),
    "workbook.csv": (1, 1, [], [(None, None)]),
}


def _corpus() -> list[Any]:
    """Both corpora: tests/rosters (expectations from test_roster) and tests/rosters_bad."""
    from tests.test_roster import CORPUS, ROSTERS

    cases = [
        pytest.param(ROSTERS / name, int(bool(problems)), accepted, problems, id=name)
        for name, (accepted, problems) in sorted(CORPUS.items())
    ]
    cases += [
        pytest.param(BAD_ROSTERS / name, code, accepted, problems, id=f"bad/{name}")
        for name, (code, _, accepted, problems) in sorted(BAD_CORPUS.items())
    ]
    return cases


def test_the_bad_corpus_lists_every_file_in_rosters_bad() -> None:
    """Every file in tests/rosters_bad has its expected outcome written down here."""
    assert sorted(p.name for p in BAD_ROSTERS.iterdir()) == sorted(BAD_CORPUS)


@pytest.mark.parametrize(("path", "code", "accepted", "problems"), _corpus())
def test_check_exits_as_expected_and_names_each_row_and_column(
    path: Path, code: int, accepted: list[int], problems: list[tuple[int | None, str | None]]
) -> None:
    """`onboard check FILE` exits 0 or 1 as expected, prints one `refused` line per problem
    naming its row and column, one `ok` line per accepted row, and never floods the terminal."""
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == code, result.output
    lines = result.stdout.splitlines()
    refused = [line for line in lines if line.startswith("refused")]
    ok = [line for line in lines if line.startswith("ok")]
    assert len(refused) == len(problems), result.stdout
    for line, (row, column) in zip(refused, problems, strict=True):
        where = ", ".join(
            part
            for part in (f"row {row}" if row else "", f"column {column}" if column else "")
            if part
        )
        assert line.startswith(f"refused  {where}:" if where else "refused  "), line
    assert [int(line.split()[2].rstrip(":")) for line in ok] == accepted
    assert max(len(line) for line in lines) < 400, "a long cell was echoed in full"


@pytest.mark.parametrize("name", ["cp1252.csv", "latin1.csv", "header_only.csv"])
def test_strict_check_refuses_what_is_otherwise_a_warning(name: str) -> None:
    """A file read by guessing its encoding, or with no rows, passes `check` but not `--strict`."""
    code, strict_code, _, _ = BAD_CORPUS[name]
    result = CliRunner().invoke(app, ["check", "--strict", str(BAD_ROSTERS / name)])
    assert (code, result.exit_code) == (0, strict_code), result.output


def test_windows_and_latin1_files_keep_their_accents() -> None:
    """Accented names survive a Windows-1252 or Latin-1 file, as the admin typed them."""
    shown = CliRunner().invoke(app, ["check", str(BAD_ROSTERS / "cp1252.csv")]).stdout
    shown += CliRunner().invoke(app, ["check", str(BAD_ROSTERS / "latin1.csv")]).stdout
    for name in ("Renée D\u2019Arcy", "José Núñez", "Zoë Lefèvre", "François Müller"):
        assert name in shown


def test_a_roster_that_is_not_there_cannot_start() -> None:
    """A missing file is exit 2, naming the file."""
    result = CliRunner().invoke(app, ["check", str(BAD_ROSTERS / "no_such_roster.csv")])
    assert result.exit_code == 2
    assert "no_such_roster.csv" in result.output


@pytest.mark.parametrize("name", ["binary.csv", "workbook.csv", "bom_only.csv"])
def test_a_roster_without_one_good_row_never_signs_in(
    portal: Portal, tmp_path: Path, name: str
) -> None:
    """Nothing to onboard: exit 1, and the portal never sees the robot."""
    (tmp_path / name).write_bytes((BAD_ROSTERS / name).read_bytes())
    result = onboard(portal, tmp_path, "run", name, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Nothing to do" in result.stdout
    assert portal.state()["counters"]["sign_ins"] == 0
    assert run_folders(tmp_path) == []


@pytest.mark.reliability
def test_a_mixed_roster_onboards_the_good_rows_and_never_touches_the_portal_for_the_bad(
    portal: Portal, tmp_path: Path
) -> None:
    """Rows 2 (José Núñez-García) and 5 (Seán O'Brien-Smith) end complete; the six bad rows
    are refused by row and column and nobody of theirs reaches the portal."""
    (tmp_path / "mixed.csv").write_bytes((BAD_ROSTERS / "mixed.csv").read_bytes())
    seed_users = usernames(portal.state())
    good = ["jose.nunez-garcia", "sean.obrien-smith"]

    result = onboard(portal, tmp_path, "run", "mixed.csv", "--workers", "1", timeout=300)

    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    for row, column in BAD_CORPUS["mixed.csv"][3]:
        assert f"refused  row {row}, column {column}:" in result.stdout
    state = portal.state()
    assert incomplete_users(state, good) == {}
    assert usernames(state) == seed_users | set(good)
    users = {u["username"]: u for u in state["users"]}
    assert (users[good[0]]["first_name"], users[good[0]]["last_name"]) == ("José", "Núñez-García")
    assert (users[good[1]]["first_name"], users[good[1]]["last_name"]) == ("Seán", "O'Brien-Smith")
    [folder] = run_folders(tmp_path)
    summary = summary_of(folder)
    assert [(u["row"], u["username"], u["status"]) for u in summary["users"]] == [
        (2, good[0], "complete"),
        (5, good[1], "complete"),
    ]
    lines = [json.loads(line) for line in (folder / "audit.jsonl").open()]
    # The closing line seals the run's files and names no user.
    audited = {line["user"] for line in lines if line["action"] != "sealed"}
    assert audited == set(good)


# -- 6: wrong credentials -----------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 3])
def test_a_wrong_admin_password_is_tried_once_and_nothing_is_written(
    portal: Portal, portal_server: PortalServer, tmp_path: Path, workers: int
) -> None:
    """Exit 2 after exactly one sign-in attempt, however many workers, with the portal's own
    words; no save, no user, and the wrong password in no file."""
    wrong = "Wrong-" + portal.password[::-1]
    write_roster(tmp_path / "roster.csv", roster_rows(3, prefix="wc"))
    before = portal.state()
    env = robot_env(portal, tmp_path, PORTAL_PASSWORD=wrong)

    with sign_in_posts(portal_server) as posts:
        result = onboard(
            portal, tmp_path, "run", "roster.csv", "--workers", str(workers), env=env, timeout=120
        )

    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert len(posts) == 1, f"sign-in attempts: {posts}"
    assert "refused the sign-in: Invalid username or password." in result.stdout
    after = portal.state()
    assert after["counters"] == before["counters"]
    assert after["users"] == before["users"]
    [folder] = run_folders(tmp_path)
    summary = summary_of(folder)
    assert (summary["sign_ins"], summary["exit_code"]) == (0, 2)
    assert {u["status"] for u in summary["users"]} == {"skipped"}
    assert wrong not in said
    assert files_holding(tmp_path, [wrong, portal.password]) == []
