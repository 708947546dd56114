"""Run evidence for auditors: masked screenshots and a hash-chained audit log.

Every run writes `recordings/<run-id>/`, readable by its owner only. Each audit line is a
JSON object written through structlog; it carries the SHA-256 of the line before it, so a
deleted, reordered or edited line breaks the chain, and the SHA-256 of the screenshot it
refers to, so a replaced picture is caught too. `verify_run` checks both.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from playwright.sync_api import Locator, Page

from robots.narrator import EVIDENCE_HIDE_CSS

GENESIS = "0" * 64
SECRET_FIELD_NAMES = re.compile(r"password|\bpin\b", re.IGNORECASE)
MASK_COLOR = "#000000"
_TALLER_THAN_WINDOW_JS = """() => Math.max(document.documentElement.scrollHeight,
  document.body ? document.body.scrollHeight : 0) > window.innerHeight
  || document.documentElement.scrollWidth > window.innerWidth"""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _line_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


class Redactor:
    """Replaces every known secret with a fixed marker wherever text leaves the robot."""

    MARK = "[secret]"

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Know `secret` as written and as it travels in a form post, a URL or JSON."""
        # Very short values would blank out ordinary words; the portal's secrets are longer.
        if not secret or len(secret) < 4:
            return
        forms = {
            secret,
            urllib.parse.quote_plus(secret),
            urllib.parse.quote(secret, safe=""),
            json.dumps(secret)[1:-1],
        }
        with self._lock:
            self._secrets.update(forms)

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def text(self, value: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(secret, self.MARK)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


class _HashChain:
    """structlog processor: links each event to the one before it."""

    def __init__(self, prev_hash: str = GENESIS) -> None:
        self.prev_hash = prev_hash
        self.seq = 0

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        self.seq += 1
        event["seq"] = self.seq
        event["prev_hash"] = self.prev_hash
        event["hash"] = _line_hash(self.prev_hash, event)
        self.prev_hash = event["hash"]
        return event


def secret_fields(page: Page) -> list[Locator]:
    """Every field a person would recognise as secret: passwords and PINs, by name or type."""
    return [
        page.get_by_label(SECRET_FIELD_NAMES),
        page.get_by_role("textbox", name=SECRET_FIELD_NAMES),
        page.locator("input[type=password]"),  # a password box may have no accessible name
    ]


@dataclass
class AuditEvent:
    """What one audit line says; `screenshot` is relative to the run folder."""

    user: str
    step: str
    action: str
    outcome: str
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    duration_ms: int | None = None
    screenshot: str | None = None
    detail: str = ""


class EvidenceRecorder:
    """Writes one run's screenshots and audit log; safe to share between worker threads."""

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        redactor: Redactor,
        *,
        screenshots: bool = True,
        hide_narration: bool = True,
    ) -> None:
        """`hide_narration`: keep a headed run's caption and outline out of the pictures;
        a headless run has none to hide."""
        self.run_dir = run_dir
        self.take_screenshots = screenshots
        self.hide_narration = hide_narration
        self.run_id = run_id
        self.redactor = redactor
        self.screenshots_dir = run_dir / "screenshots"
        self.screenshots_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.audit_path = run_dir / "audit.jsonl"
        self._lock = threading.Lock()
        self._counter = 0
        self._file = self.audit_path.open("a", encoding="utf-8")
        os.chmod(self.audit_path, 0o600)
        self._chain = _HashChain()
        self._log = structlog.wrap_logger(
            structlog.WriteLogger(self._file),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
                self._redact,
                self._chain,
                structlog.processors.JSONRenderer(sort_keys=True, ensure_ascii=False),
            ],
        )

    def _redact(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        return self.redactor.data(dict(event))

    def screenshot(self, page: Page, user: str, label: str) -> str | None:
        """A screenshot of the whole page with every secret field blacked out; returns its
        path relative to the run folder."""
        if not self.take_screenshots:
            return None
        with self._lock:
            self._counter += 1
            number = self._counter
        slug = re.sub(r"[^a-z0-9]+", "-", f"{user}-{label}".lower()).strip("-")[:80]
        path = self.screenshots_dir / f"{number:04d}-{slug}.png"
        try:
            page.screenshot(
                path=str(path),
                # A page that fits the window is captured as it is, which costs a third
                # less than the full-page capture giving the same picture.
                full_page=bool(page.evaluate(_TALLER_THAN_WINDOW_JS)),
                mask=secret_fields(page),
                mask_color=MASK_COLOR,
                animations="disabled",
                caret="hide",
                style=EVIDENCE_HIDE_CSS if self.hide_narration else None,
            )
        except Exception:  # evidence must never break the run; the audit line says it is missing
            return None
        os.chmod(path, 0o600)
        return str(path.relative_to(self.run_dir))

    def record(self, event: AuditEvent) -> None:
        fields: dict[str, Any] = {
            "run_id": self.run_id,
            "user": event.user,
            "step": event.step,
            "action": event.action,
            "outcome": event.outcome,
            "before": dict(event.before),
            "after": dict(event.after),
            "detail": event.detail,
        }
        if event.duration_ms is not None:
            fields["duration_ms"] = event.duration_ms
        if event.screenshot:
            fields["screenshot"] = event.screenshot
            fields["screenshot_sha256"] = sha256_file(self.run_dir / event.screenshot)
        with self._lock:
            self._log.msg(event.action, **fields)
            self._file.flush()

    @property
    def head(self) -> dict[str, object]:
        """Where the log ends: pinned in summary.json so a cut-off tail is detectable."""
        return {"lines": self._chain.seq, "last_hash": self._chain.prev_hash}

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: int
    problems: list[str]


def verify_run(run_dir: Path) -> VerifyResult:
    """Check the audit chain and every screenshot hash; say where the record breaks."""
    audit = run_dir / "audit.jsonl"
    if not audit.is_file():
        return VerifyResult(False, 0, [f"{audit} is missing"])
    problems: list[str] = []
    prev_hash = GENESIS
    count = 0
    for number, raw in enumerate(audit.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        count += 1
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            problems.append(f"line {number}: not valid JSON")
            break
        claimed = event.pop("hash", None)
        if event.get("prev_hash") != prev_hash:
            problems.append(
                f"line {number}: does not follow the line before it "
                "(a line was removed, reordered or inserted here)"
            )
            break
        if _line_hash(prev_hash, event) != claimed:
            problems.append(f"line {number}: its content was changed after it was written")
            break
        shot = event.get("screenshot")
        if shot:
            path = run_dir / shot
            if not path.is_file():
                problems.append(f"line {number}: screenshot {shot} is missing")
            elif sha256_file(path) != event.get("screenshot_sha256"):
                problems.append(f"line {number}: screenshot {shot} was altered")
        prev_hash = claimed
    if not problems:
        problems.extend(_check_head(run_dir, count, prev_hash))
    return VerifyResult(not problems, count, problems)


def _check_head(run_dir: Path, lines: int, last_hash: str) -> list[str]:
    summary = run_dir / "summary.json"
    if not summary.is_file():
        return []
    head = json.loads(summary.read_text(encoding="utf-8")).get("audit") or {}
    if head and (head.get("lines"), head.get("last_hash")) != (lines, last_hash):
        return [
            f"line {lines + 1}: the log ends early; the run recorded {head.get('lines')} lines"
            if isinstance(head.get("lines"), int) and head["lines"] > lines
            else "the log does not end where the run recorded it ended"
        ]
    return []


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def scrub_trace(path: Path, redactor: Redactor) -> None:
    """Rewrite a trace archive with every known secret replaced, in every member."""
    secrets_bytes = [s.encode() for s in redactor.secrets]
    if not secrets_bytes:
        return
    scrubbed = path.with_suffix(".scrubbing")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(scrubbed, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member)
            for secret in secrets_bytes:
                data = data.replace(secret, Redactor.MARK.encode())
            target.writestr(member, data)
    scrubbed.replace(path)
    os.chmod(path, 0o600)
