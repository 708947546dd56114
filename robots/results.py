"""What a run ends with: each user's result, the run's, the exit code, and summary.json.

Exit codes, the same for every command (a scheduler and a shell script rely on them):
0 every user complete (or planned), 1 some users failed, were refused or need a person, 2
the run could not start, 130 interrupted.

A user whose every step is done but for what only someone else can do next (call recording
requested of Support, case open) is complete: the follow-up is in `notes`, shown on the
command's output and in the report. A user a step left to a person ("needs a person": an
agent who left, a request whose answer was lost) is not complete.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from domain.steps import StepOutcome, StepPlan

EXIT_OK, EXIT_FAILURES, EXIT_NOT_STARTED, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class UserResult:
    """One roster entry's end: `username` is the record's key (Xima's: the email)."""

    row: int
    username: str
    name: str
    # complete | failed | refused | conflict | needs a person | planned | skipped
    status: str = "pending"
    outcomes: list[StepOutcome] = field(default_factory=list)
    plans: list[StepPlan] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    screenshot: str | None = None
    trace: str | None = None
    attempts: int = 0
    duration_ms: int = 0
    # What someone else does next, the user being complete (a case open with Support).
    notes: list[str] = field(default_factory=list)


NEEDS_PERSON = "needs a person"
# The statuses of users the robot could not finish, for reports and CI dashboards.
NOT_DONE = ("failed", "refused", "conflict", NEEDS_PERSON)


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    mode: str
    portal_url: str
    started: str
    kind: str = ""
    users: list[UserResult] = field(default_factory=list)
    finished: str = ""
    stopped: str | None = None  # why the run stopped early, if it did
    not_started: bool = False  # no browser or no sign-in: nothing was tried
    sign_ins: int = 0
    re_sign_ins: int = 0
    retries: int = 0
    audit: dict[str, object] = field(default_factory=dict)
    # What the admin must read about the run as a whole (the deletion guard's refusal).
    notes: list[str] = field(default_factory=list)
    # What is open with someone else, and what the admin does next (a once-per-run step's
    # requests: open cases, the test call once recording is on).
    follow_ups: list[str] = field(default_factory=list)
    # Titled texts for the report (a chat's transcript, secrets replaced).
    texts: dict[str, list[str]] = field(default_factory=dict)

    def status_counts(self) -> dict[str, int]:
        """How many users ended in each status, in the order they first occur."""
        counts: dict[str, int] = {}
        for user in self.users:
            counts[user.status] = counts.get(user.status, 0) + 1
        return counts

    @property
    def exit_code(self) -> int:
        if self.stopped == "interrupted":
            return EXIT_INTERRUPTED
        if self.not_started:
            return EXIT_NOT_STARTED
        bad = [u for u in self.users if u.status not in ("complete", "planned")]
        return EXIT_FAILURES if bad or self.stopped else EXIT_OK


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def make_run_dir(recordings: Path, run_id: str) -> Path:
    recordings.mkdir(parents=True, exist_ok=True)
    run_dir = recordings / run_id
    run_dir.mkdir(mode=0o700)
    os.chmod(run_dir, 0o700)  # mkdir's mode is filtered by umask
    return run_dir


def write_summary(result: RunResult) -> Path:
    """summary.json: the run as data, for dashboards and for the report."""
    path = result.run_dir / "summary.json"
    data = {
        "run_id": result.run_id,
        "mode": result.mode,
        "portal_kind": result.kind,
        "portal_url": result.portal_url,
        "started": result.started,
        "finished": result.finished,
        "stopped": result.stopped,
        "notes": result.notes,
        "follow_ups": result.follow_ups,
        "texts": result.texts,
        "exit_code": result.exit_code,
        "sign_ins": result.sign_ins,
        "retries": result.retries,
        "re_sign_ins": result.re_sign_ins,
        "audit": result.audit,
        "users": [
            {
                "row": u.row,
                "username": u.username,
                "name": u.name,
                "status": u.status,
                "error": u.error,
                "error_kind": u.error_kind,
                "notes": u.notes,
                "attempts": u.attempts,
                "duration_ms": u.duration_ms,
                "screenshot": u.screenshot,
                "trace": u.trace,
                "steps": [
                    {"step": o.step, "action": o.action, "detail": o.detail} for o in u.outcomes
                ],
                "plan": [{"step": p.step, "action": p.action, "detail": p.detail} for p in u.plans],
            }
            for u in result.users
        ],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.chmod(path, 0o600)
    return path
