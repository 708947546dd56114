"""What an attacker with the run folder, or a crafted roster, can and cannot do to the evidence.

Each test here stands for one finding of a security review: it failed before its fix.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer
from robots.cli import app
from robots.evidence import (
    GENESIS,
    AuditEvent,
    EvidenceRecorder,
    Redactor,
    _line_hash,
    read_audit,
    scrub_trace,
    seal_run,
    verify_run,
)
from tests.conftest import Portal
from tests.robot_runs import files_holding, onboard, roster_rows, run_folders, write_roster

PASSWORD = "p~a*s!s+w%o&r=d' \"é ü"
KEY = b"an-evidence-key-of-32-characters"


def _record(run_dir: Path, *, key: bytes | None = None, **changes: object) -> EvidenceRecorder:
    recorder = EvidenceRecorder(run_dir, "run-1", Redactor(), key=key)
    fields: dict[str, object] = {
        "user": "dana.smith",
        "step": "device",
        "action": "changed",
        "outcome": "ok",
        "after": {"device": "Generic SIP Phone"},
    }
    fields.update(changes)
    recorder.record(AuditEvent(**fields))  # type: ignore[arg-type]
    return recorder


def _finished_run(run_dir: Path, *, key: bytes | None = None, lines: int = 3) -> None:
    """A run as the robot leaves it: lines, summary.json, report.html, junit.xml, closing line."""
    recorder = EvidenceRecorder(run_dir, "run-1", Redactor(), key=key)
    for number in range(lines):
        recorder.record(
            AuditEvent(user=f"u{number}", step="device", action="changed", outcome="ok")
        )
    recorder.close()
    (run_dir / "summary.json").write_text(json.dumps({"audit": recorder.head, "users": []}))
    (run_dir / "report.html").write_text("<p>3 complete</p>")
    (run_dir / "junit.xml").write_text("<testsuites/>")
    seal_run(run_dir, "run-1", recorder.head, key)


def _rewrite_chain(run_dir: Path, edit: str, to: str) -> None:
    """What an attacker without the key does: edit a value, then recompute every hash."""
    prev = GENESIS
    out = []
    for raw in (run_dir / "audit.jsonl").read_text(encoding="utf-8").split("\n"):
        if not raw.strip():
            continue
        event = json.loads(raw.replace(edit, to))
        event.pop("hash")
        event.pop("mac", None)
        event["prev_hash"] = prev
        event["hash"] = prev = _line_hash(prev, event)
        out.append(json.dumps(event, sort_keys=True, ensure_ascii=False))
    (run_dir / "audit.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")


# -- screenshots outside the run folder --------------------------------------------------------
@pytest.mark.parametrize("where", ["dot-dot", "absolute", "symlink"])
def test_a_screenshot_outside_the_run_folder_is_refused(tmp_path: Path, where: str) -> None:
    """A log line naming ../.., an absolute path or a symbolic link is refused, not read."""
    run_dir = tmp_path / "run"
    (run_dir / "screenshots").mkdir(parents=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not evidence")
    shot = {
        "dot-dot": "../outside.png",
        "absolute": str(outside),
        "symlink": "screenshots/0001-link.png",
    }[where]
    if where == "symlink":
        os.symlink(outside, run_dir / shot)
    _record(run_dir, screenshot=shot).close()
    result = verify_run(run_dir)
    assert not result.ok
    assert any("screenshot" in problem for problem in result.problems), result.problems
    assert any(
        word in problem
        for problem in result.problems
        for word in ("outside the run folder", "leads out", "symbolic link")
    ), result.problems


# -- a cut tail, summary.json deleted or edited --------------------------------------------------
@pytest.mark.parametrize("summary", ["deleted", "edited"])
def test_a_cut_tail_does_not_verify_whatever_summary_json_says(
    tmp_path: Path, summary: str
) -> None:
    """Dropping the last lines and deleting or editing summary.json to match is caught."""
    recorder = EvidenceRecorder(tmp_path, "run-1", Redactor())
    for number in range(5):
        recorder.record(
            AuditEvent(user=f"u{number}", step="device", action="changed", outcome="ok")
        )
    recorder.close()
    lines = (tmp_path / "audit.jsonl").read_text().split("\n")
    (tmp_path / "audit.jsonl").write_text("\n".join(lines[:3]) + "\n")
    third = json.loads(lines[2])
    if summary == "edited":
        head = {"lines": 3, "last_hash": third["hash"]}
        (tmp_path / "summary.json").write_text(json.dumps({"audit": head}))
    assert not verify_run(tmp_path).ok


def test_a_finished_run_cut_at_its_closing_line_does_not_verify(tmp_path: Path) -> None:
    """A finished run whose closing line and summary.json are removed reads as unfinished."""
    _finished_run(tmp_path)
    lines = (tmp_path / "audit.jsonl").read_text().split("\n")
    (tmp_path / "audit.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (tmp_path / "summary.json").unlink()
    result = verify_run(tmp_path)
    assert not result.ok
    assert not result.finished


# -- report.html, junit.xml, summary.json are covered ----------------------------------------------
@pytest.mark.parametrize("name", ["report.html", "junit.xml", "summary.json", "traces/u1.zip"])
def test_every_file_of_a_finished_run_is_sealed(tmp_path: Path, name: str) -> None:
    """Editing the report, junit, summary or a trace after the run is caught by name."""
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "u1.zip").write_bytes(b"PK trace")
    _finished_run(tmp_path)
    assert verify_run(tmp_path).ok, verify_run(tmp_path).problems
    path = tmp_path / name
    path.write_bytes(path.read_bytes() + b" ")
    result = verify_run(tmp_path)
    assert not result.ok
    assert any(name in problem and "altered" in problem for problem in result.problems)


def test_a_file_added_after_the_run_is_caught(tmp_path: Path) -> None:
    """A screenshot slipped into a finished run folder is named."""
    _finished_run(tmp_path)
    (tmp_path / "screenshots" / "9999-extra.png").write_bytes(b"x")
    result = verify_run(tmp_path)
    assert any("9999-extra.png" in p and "added" in p for p in result.problems), result.problems


def test_a_line_after_the_closing_line_is_caught(tmp_path: Path) -> None:
    """The closing line is the last: nothing may be chained after it."""
    _finished_run(tmp_path)
    lines = (tmp_path / "audit.jsonl").read_text().split("\n")
    seal = json.loads(lines[3])
    extra = {"user": "x", "step": "device", "seq": 5, "prev_hash": seal["hash"]}
    extra["hash"] = _line_hash(seal["hash"], extra)
    with (tmp_path / "audit.jsonl").open("a") as handle:
        handle.write(json.dumps(extra) + "\n")
    assert any("closing line" in p for p in verify_run(tmp_path).problems)


# -- malformed input: a clear message and exit code, never a traceback ---------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"[]\n",
        b'"a string"\n',
        b"{\n",
        b'{"hash": 5}\n',
        b"[" * 100_000 + b"\n",
        b"\xff\xfe not utf-8\n",
        json.dumps({"prev_hash": GENESIS, "screenshot": 123}).encode() + b"\n",
    ],
)
def test_a_malformed_log_is_answered_with_a_problem_not_a_traceback(
    tmp_path: Path, content: bytes
) -> None:
    """Whatever the log holds, verify names the problem and `onboard verify` exits 1."""
    (tmp_path / "audit.jsonl").write_bytes(content)
    result = verify_run(tmp_path)
    assert not result.ok and result.problems
    done = CliRunner().invoke(app, ["verify", str(tmp_path)])
    assert done.exit_code == 1, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "Traceback" not in done.output
    assert "broken" in done.output


def test_a_malformed_summary_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    """A summary.json that is not JSON is reported as such."""
    _record(tmp_path).close()
    (tmp_path / "summary.json").write_text("{not json")
    result = verify_run(tmp_path)
    assert not result.ok
    assert any("summary.json" in p for p in result.problems)


# -- keyed signing ---------------------------------------------------------------------------------
def test_with_a_key_a_rewrite_of_the_whole_chain_is_caught(tmp_path: Path) -> None:
    """Without the key a recomputed chain looks whole; with it, the rewrite is caught."""
    _finished_run(tmp_path, key=KEY)
    assert verify_run(tmp_path, KEY).ok
    assert verify_run(tmp_path, KEY).signed
    _rewrite_chain(tmp_path, '"user":"u1"', '"user":"mallory"')
    result = verify_run(tmp_path, KEY)
    assert not result.ok
    assert "not signed" in result.problems[0] or "signature" in result.problems[0]


def test_a_log_signed_with_another_key_is_caught(tmp_path: Path) -> None:
    """A log signed with some other key does not pass for ours."""
    _finished_run(tmp_path, key=b"some-other-key-0123456789")
    result = verify_run(tmp_path, KEY)
    assert not result.ok
    assert "signature does not match" in result.problems[0]


def test_verify_reads_the_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`onboard verify` with EVIDENCE_KEY set checks signatures and says so."""
    _finished_run(tmp_path, key=KEY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVIDENCE_KEY", KEY.decode())
    done = CliRunner().invoke(app, ["verify", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "signature matches EVIDENCE_KEY" in done.output
    monkeypatch.setenv("EVIDENCE_KEY", "a-different-key-0123456789")
    assert CliRunner().invoke(app, ["verify", str(tmp_path)]).exit_code == 1


# -- a line separator in a value ----------------------------------------------------------------
def test_a_line_separator_in_a_value_leaves_the_log_whole_and_readable(tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 in a value neither break verification nor the report's reader."""
    _record(tmp_path, detail="before\u2028middle\u2029after\u0085end").close()
    result = verify_run(tmp_path)
    assert result.problems == [], result.problems
    assert result.lines == 1
    [event] = read_audit(tmp_path / "audit.jsonl")
    assert event["detail"] == "before\u2028middle\u2029after\u0085end"


# -- traces ----------------------------------------------------------------------------------------
def password_encodings(secret: str) -> dict[str, str]:
    """Every way a test looks for a secret in a file."""
    form = urllib.parse.quote_plus(secret, safe="*").replace("~", "%7E")
    return {
        "raw": secret,
        "quote": urllib.parse.quote(secret, safe=""),
        "quote_plus": urllib.parse.quote_plus(secret),
        "browser form": form,
        "json": json.dumps(secret)[1:-1],
        "json utf-8": json.dumps(secret, ensure_ascii=False)[1:-1],
        "base64": base64.b64encode(secret.encode()).decode(),
    }


def test_scrubbed_trace_holds_no_password_cookie_or_token(tmp_path: Path) -> None:
    """A trace with the sign-in post (browser form encoding), cookies and a typed password
    keeps none of them after scrubbing."""
    cookie = "sid-0123456789abcdefghij"
    form = password_encodings(PASSWORD)["browser form"]
    network = {
        "type": "resource-snapshot",
        "snapshot": {
            "request": {
                "url": "http://127.0.0.1/sign-in?session_token=tok-987654321",
                "headers": [
                    {"name": "Cookie", "value": f"nv_session={cookie}"},
                    {"name": "X-CSRFToken", "value": "csrf-1234567890"},
                    {"name": "Authorization", "value": "Bearer abcdefghijkl"},
                ],
                "cookies": [{"name": "nv_session", "value": cookie}],
                "postData": {"mimeType": "application/x-www-form-urlencoded", "_sha1": "b1.dat"},
            },
            "response": {
                "headers": [{"name": "Set-Cookie", "value": f"nv_session={cookie}; HttpOnly"}],
                "cookies": [{"name": "nv_session", "value": cookie}],
                "content": {"mimeType": "text/html", "_sha1": "b2.html"},
            },
        },
    }
    action = {
        "type": "before",
        "method": "fill",
        "params": {"selector": 'internal:label="Password"i', "value": PASSWORD},
    }
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.network", json.dumps(network) + "\n")
        archive.writestr("trace.trace", json.dumps(action, ensure_ascii=False) + "\n")
        archive.writestr("resources/b1.dat", f"username=admin&password={form}")
        archive.writestr("resources/b2.html", '<input name="csrf_token" value="csrf-1234567890">')
    scrub_trace(trace, Redactor())  # no secret known: the structure alone must protect
    needles = [*password_encodings(PASSWORD).values(), cookie, "csrf-1234567890", "tok-98765"]
    needles.append("abcdefghijkl")
    with zipfile.ZipFile(trace) as archive:
        for member in archive.namelist():
            data = archive.read(member).decode()
            for needle in needles:
                assert needle not in data, f"{needle!r} in {member}"


def test_the_redactor_knows_the_browser_form_encoding(tmp_path: Path) -> None:
    """A known password is replaced in every encoding the tests look for."""
    redactor = Redactor([PASSWORD])
    for name, form in password_encodings(PASSWORD).items():
        assert redactor.text(f"x{form}x") == f"x{Redactor.MARK}x", name


class _CookieJar:
    """Every session cookie value the portal hands out (from its Set-Cookie headers)."""

    def __init__(self) -> None:
        self.values: set[str] = set()


@pytest.fixture
def hard_password_portal() -> Iterator[tuple[Portal, _CookieJar]]:
    """A mock portal whose admin password holds every character that encodings treat apart."""
    app = create_app(PortalConfig(admin_username="admin@example.com", admin_password=PASSWORD))
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    jar = _CookieJar()
    inner = app.wsgi_app

    # Set-Cookie is added after Flask's after_request hooks: read it on the way out.
    def remember_cookies(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            for name, value in headers:
                if name.lower() == "set-cookie" and value.startswith(cookie_name + "="):
                    cookie = value[len(cookie_name) + 1 :].split(";", 1)[0]
                    if cookie:
                        jar.values.add(cookie)
            return start_response(status, headers, *rest)

        return inner(environ, start)

    app.wsgi_app = remember_cookies  # type: ignore[method-assign]

    with PortalServer(app) as server:
        yield Portal(server.url, "admin@example.com", PASSWORD), jar


@pytest.mark.browser
def test_a_traced_run_with_a_failing_user_leaves_no_password_or_cookie_in_any_file(
    hard_password_portal: tuple[Portal, _CookieJar], tmp_path: Path
) -> None:
    """--trace on, one user refused, a password of ~ * ! + % & = ' " space and accents: no file
    of the run, trace archives unzipped, holds the password in any encoding or a session cookie."""
    portal, jar = hard_password_portal
    rows = roster_rows(2, prefix="sec")
    rows[1]["phone_number"] = "(999) 555-0100"  # not a number of that location: refused
    write_roster(tmp_path / "roster.csv", rows)

    done = onboard(portal, tmp_path, "run", "roster.csv", "--trace", "on", "--license-batch", "1")

    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    [run_dir] = run_folders(tmp_path)
    traces = sorted((run_dir / "traces").glob("*.zip"))
    assert len(traces) >= 2, "--trace on must keep a trace per user"
    assert jar.values, "the portal handed out no session cookie"
    needles = {**password_encodings(PASSWORD), **{f"cookie {v[:6]}": v for v in jar.values}}
    found = {
        name: files_holding(tmp_path, [needle])
        for name, needle in needles.items()
        if files_holding(tmp_path, [needle])
    }
    assert found == {}
    assert portal.secrets()  # the SIP passwords the run generated
    assert files_holding(run_dir, portal.secrets()) == []
    verified = onboard(portal, tmp_path, "verify", str(run_dir))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_video_is_refused_with_the_reason(tmp_path: Path) -> None:
    """`--video` is refused before anything starts: its frames could show a generated SIP
    password or PIN, which no mask covers."""
    roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
    done = CliRunner().invoke(app, ["run", str(roster), "--video"])
    assert done.exit_code == 2
    words = " ".join(done.output.replace("│", " ").split())  # the error is drawn in a box
    assert "cannot be masked" in words
