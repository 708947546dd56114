"""Run evidence for auditors: masked screenshots, a hash-chained audit log, scrubbed traces.

Every run writes `recordings/<run-id>/`, readable by its owner only. Each audit line is a
JSON object written through structlog; it carries the SHA-256 of the line before it, so a
deleted, reordered or edited line breaks the chain, and the SHA-256 of the screenshot it
refers to, so a replaced picture is caught too. When the run has written its summary,
report and junit file, a closing line seals the folder: the SHA-256 of every other file in
it. With an evidence key (EVIDENCE_KEY) each line also carries an HMAC of its hash, so a
rewrite of the whole chain is caught. `verify_run` checks all of it; docs/evidence.md says
what that proves with and without a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import structlog
from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError

from robots.narrator import EVIDENCE_HIDE_CSS

GENESIS = "0" * 64
SEAL_ACTION = "sealed"
# The shortest evidence key accepted: an HMAC key must not be guessable from the chain.
MIN_KEY_LENGTH = 16
SECRET_FIELD_NAMES = re.compile(r"password|\bpin\b", re.IGNORECASE)
# Support chats where the admin is asked for the account's PIN (Nextiva's Chat With an Expert).
MASK_COLOR = "#000000"
_TALLER_THAN_WINDOW_JS = """() => Math.max(document.documentElement.scrollHeight,
  document.body ? document.body.scrollHeight : 0) > window.innerHeight
  || document.documentElement.scrollWidth > window.innerWidth"""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _line_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _line_mac(key: bytes, line_hash: str) -> str:
    """The line's signature: the hash covers the line and everything before it."""
    return hmac.new(key, line_hash.encode(), hashlib.sha256).hexdigest()


def signing_key(text: str | None) -> bytes | None:
    """The evidence key as bytes, None when unset; ValueError when too short to trust."""
    if text is None or not text.strip():
        return None
    if len(text) < MIN_KEY_LENGTH:
        raise ValueError(f"is too short: at least {MIN_KEY_LENGTH} characters")
    return text.encode()


def _form_encoded(secret: str) -> str:
    """`secret` as a browser writes it in a form post (WHATWG urlencoded): unlike Python's
    quote_plus, '~' becomes %7E and '*' stays as it is."""
    out = []
    for byte in secret.encode():
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in "*-._"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def encodings(secret: str) -> set[str]:
    """Every way `secret` travels: as written, in a form post (Python's and the browser's),
    a URL, JavaScript's encodeURIComponent, JSON (ASCII or not, once or twice), HTML and
    base64."""
    forms = {
        secret,
        urllib.parse.quote_plus(secret),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="!'()*"),
        _form_encoded(secret),
        html.escape(secret, quote=True),
        html.escape(secret, quote=False),
        html.escape(secret, quote=True).replace("&#x27;", "&#39;"),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
    }
    for ascii_only in (True, False):
        once = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms.add(once)
        forms.add(json.dumps(once, ensure_ascii=ascii_only)[1:-1])
    return forms


class Redactor:
    """Replaces every known secret with a fixed marker wherever text leaves the robot."""

    MARK = "[secret]"

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Know `secret` as written and in every encoding it travels in (see `encodings`)."""
        # Very short values would blank out ordinary words; the portal's secrets are longer.
        if not secret or len(secret) < 4:
            return
        forms = {form for form in encodings(secret) if len(form) >= 4}
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
    """structlog processor: links each event to the one before it, and signs it with the
    evidence key when there is one."""

    def __init__(self, prev_hash: str = GENESIS, seq: int = 0, key: bytes | None = None) -> None:
        self.prev_hash = prev_hash
        self.seq = seq
        self._key = key

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        self.seq += 1
        event["seq"] = self.seq
        event["prev_hash"] = self.prev_hash
        event["hash"] = _line_hash(self.prev_hash, event)
        if self._key is not None:
            event["mac"] = _line_mac(self._key, event["hash"])
        self.prev_hash = event["hash"]
        return event


def secret_fields(page: Page) -> list[Locator]:
    """Every field a person would recognise as secret: passwords and PINs, by name or type;
    and any conversation (a `log`) with the text boxes of the dialog that holds it: a
    support chat is where an admin types the account's PIN to be verified, whatever the
    portal (its transcript, the PIN replaced, is the evidence of the chat)."""
    conversation = page.get_by_role("dialog").filter(has=page.get_by_role("log"))
    return [
        page.get_by_label(SECRET_FIELD_NAMES),
        page.get_by_role("textbox", name=SECRET_FIELD_NAMES),
        page.locator("input[type=password]"),  # a password box may have no accessible name
        page.get_by_role("log"),
        conversation.get_by_role("textbox"),
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
        key: bytes | None = None,
    ) -> None:
        """`hide_narration`: keep a headed run's caption and outline out of the pictures;
        a headless run has none to hide. `key`: sign every line with it (HMAC-SHA-256)."""
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
        self._chain = _HashChain(key=key)
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


# The files a run writes last, in this order; the closing line seals them with the rest.
FINAL_FILES = ("summary.json", "report.html", "junit.xml")
_QUOTE_LIMIT = 60


def seal_run(run_dir: Path, run_id: str, head: Mapping[str, object], key: bytes | None) -> None:
    """Append the closing line: the SHA-256 of every file in the run folder but the log.

    Written after summary.json (which pins where the log stood), report.html and junit.xml,
    so each of them is covered by the chain; a run killed before this has no closing line."""
    lines, last_hash = head.get("lines"), head.get("last_hash")
    if not isinstance(lines, int) or not isinstance(last_hash, str):
        return
    files = {
        path.relative_to(run_dir).as_posix(): sha256_file(path)
        for path in sorted(run_dir.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.name != "audit.jsonl"
    }
    event: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "run_id": run_id,
        "user": "",
        "step": "evidence",
        "action": SEAL_ACTION,
        "outcome": "ok",
        "event": SEAL_ACTION,
        "files": files,
    }
    _HashChain(last_hash, lines, key)(None, "", event)
    audit = run_dir / "audit.jsonl"
    with audit.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")
    os.chmod(audit, 0o600)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify_run` found. `ok` only when the chain is whole, the run's closing line
    is there and every file it seals is unaltered."""

    lines: int
    problems: list[str]
    finished: bool = True  # the log ends with the run's closing line
    signed: bool = False  # every line's signature was checked with the key
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.finished


def _quoted(value: object) -> str:
    """A value from the evidence, fit for a one-line message: no control characters, cut."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", "?", str(value))
    return repr(text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…")


def _confined(run_dir: Path, name: object) -> Path | str:
    """The file `name` (relative, as the log writes it) inside the run folder, or why not:
    an absolute path, '..', a symbolic link or anything leading out of the folder is refused."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return f"{_quoted(name)} is not a file name of this run"
    relative = PurePosixPath(name)
    if relative.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return f"{_quoted(name)} is an absolute path, outside the run folder"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return f"{_quoted(name)} leads out of the run folder"
    path = run_dir
    for part in relative.parts:
        path = path / part
        try:
            mode = path.lstat().st_mode
        except OSError:
            return f"{_quoted(name)} is missing"
        if stat.S_ISLNK(mode):
            return f"{_quoted(name)} is a symbolic link, not a file of this run"
    if not stat.S_ISREG(path.lstat().st_mode):
        return f"{_quoted(name)} is not a regular file"
    if not path.resolve().is_relative_to(run_dir.resolve()):
        return f"{_quoted(name)} leads out of the run folder"
    return path


def _audit_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of a JSONL text. Split on '\n' only: str.splitlines() also splits
    inside a value holding U+2028, U+0085 and the like, and would call a whole log broken."""
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            yield number, raw


def read_audit(path: Path) -> list[dict[str, Any]]:
    """The audit log's events in order (for the report); lines that are not objects skipped."""
    events = []
    for _number, raw in _audit_lines(path.read_text(encoding="utf-8", errors="replace")):
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def verify_run(run_dir: Path, key: bytes | None = None) -> VerifyResult:
    """Check the audit chain, every screenshot, the closing line and the files it seals,
    and with `key` every line's signature; say where the record breaks. Never raises for
    what it finds in the folder."""
    try:
        return _verify(run_dir, key)
    except OSError as error:
        return VerifyResult(0, [f"{_quoted(error.filename)} cannot be read: {error.strerror}"])


def _verify(run_dir: Path, key: bytes | None) -> VerifyResult:
    audit = _confined(run_dir, "audit.jsonl")
    if isinstance(audit, str):
        return VerifyResult(0, [f"the audit log {audit}"])
    try:
        text = audit.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return VerifyResult(0, [f"audit.jsonl is not UTF-8 text (byte {error.start})"])
    problems: list[str] = []
    notes: list[str] = []
    prev_hash = GENESIS
    count = signed = 0
    seal: dict[str, Any] | None = None
    for number, raw in _audit_lines(text):
        count += 1
        problem, event = _check_line(run_dir, number, raw, prev_hash, key, seal)
        if problem:
            problems.append(problem)
            break
        assert event is not None
        signed += "mac" in event
        if event.get("action") == SEAL_ACTION and event.get("step") == "evidence":
            seal = event
        prev_hash = event["hash"]
    if problems:
        return VerifyResult(count, problems, finished=seal is not None)
    if signed and key is None:
        notes.append("the lines are signed: set EVIDENCE_KEY to check the signatures too")
    if seal is None:
        problems.extend(_check_head(run_dir, count, prev_hash))
        if not problems and (run_dir / "summary.json").exists():
            problems.append(
                f"line {count + 1}: the run's closing line is missing though summary.json "
                "exists: the end of the log was cut off"
            )
        return VerifyResult(count, problems, finished=False, notes=notes)
    problems.extend(_check_sealed(run_dir, seal))
    if not problems:
        problems.extend(_check_head(run_dir, count - 1, str(seal.get("prev_hash"))))
    return VerifyResult(count, problems, signed=key is not None, notes=notes)


def _check_line(
    run_dir: Path,
    number: int,
    raw: str,
    prev_hash: str,
    key: bytes | None,
    seal: Mapping[str, Any] | None,
) -> tuple[str | None, dict[str, Any] | None]:
    """(why line `number` breaks the record, or None; the line's event)."""
    if seal is not None:
        return f"line {number}: follows the run's closing line (added after the run)", None
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        return f"line {number}: not valid JSON", None
    if not isinstance(event, dict):
        return f"line {number}: not a JSON object", None
    claimed = event.pop("hash", None)
    mac = event.pop("mac", None)
    if not isinstance(claimed, str):
        return f"line {number}: has no hash", None
    if event.get("prev_hash") != prev_hash:
        return (
            f"line {number}: does not follow the line before it "
            "(a line was removed, reordered or inserted here)"
        ), None
    if _line_hash(prev_hash, event) != claimed:
        return f"line {number}: its content was changed after it was written", None
    if key is not None:
        if not isinstance(mac, str):
            return (
                f"line {number}: is not signed, but EVIDENCE_KEY is set (the log was "
                "written without a key, or rewritten without one)"
            ), None
        if not hmac.compare_digest(mac, _line_mac(key, claimed)):
            return (
                f"line {number}: its signature does not match EVIDENCE_KEY (the log was "
                "rewritten, or signed with another key)"
            ), None
    shot = event.get("screenshot")
    if shot is not None:
        path = _confined(run_dir, shot)
        if isinstance(path, str):
            return f"line {number}: screenshot {path}", None
        if sha256_file(path) != event.get("screenshot_sha256"):
            return f"line {number}: screenshot {_quoted(shot)} was altered", None
    event["hash"] = claimed
    if mac is not None:
        event["mac"] = mac
    return None, event


def _check_sealed(run_dir: Path, seal: Mapping[str, Any]) -> list[str]:
    """Every file the closing line names is there and unaltered, and nothing was added."""
    files = seal.get("files")
    if not isinstance(files, dict):
        return ["the closing line names no files"]
    problems = []
    for name, digest in files.items():
        path = _confined(run_dir, name)
        if isinstance(path, str):
            problems.append(f"sealed file {path}")
        elif sha256_file(path) != digest:
            problems.append(f"{_quoted(name)} was altered after the run ended")
    problems.extend(
        f"{_quoted(name)} was missing when the run ended"
        for name in FINAL_FILES
        if name not in files
    )
    for path in sorted(run_dir.rglob("*")):
        name = path.relative_to(run_dir).as_posix()
        if path.is_symlink():
            problems.append(f"{_quoted(name)} is a symbolic link, not a file of this run")
        elif path.is_file() and name != "audit.jsonl" and name not in files:
            problems.append(f"{_quoted(name)} was added after the run ended")
    return problems


def _check_head(run_dir: Path, lines: int, last_hash: str) -> list[str]:
    """Where summary.json says the log ended, against where it ends."""
    summary = run_dir / "summary.json"
    if not summary.is_file() or summary.is_symlink():
        return []
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):
        return ["summary.json is not valid JSON"]
    head = data.get("audit") if isinstance(data, dict) else None
    if not isinstance(head, dict) or not head:
        return ["summary.json does not say where the log ended"]
    if (head.get("lines"), head.get("last_hash")) != (lines, last_hash):
        return [
            f"line {lines + 1}: the log ends early; the run recorded {head.get('lines')} lines"
            if isinstance(head.get("lines"), int) and head["lines"] > lines
            else "the log does not end where the run recorded it ended"
        ]
    return []


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# Headers that carry a credential or a session: their values never enter a kept trace.
_SECRET_HEADER = re.compile(
    r"cookie|authori[sz]ation|csrf|xsrf|token|secret|session|password|api-?key|^x-auth",
    re.IGNORECASE,
)
# Query parameters, form fields and page elements named like a credential.
_SECRET_NAME = re.compile(
    r"password|passwd|passcode|\bpin\b|pin$|secret|token|csrf|xsrf|session|api.?key|auth",
    re.IGNORECASE,
)
_SECRET_QUERY = re.compile(
    r"([?&;](?:[^=&;#]*(?:password|passcode|pin|secret|token|csrf|xsrf|session|key|auth)"
    r"[^=&;#]*)=)[^&;#]*",
    re.IGNORECASE,
)
# Response bodies a trace keeps: what its page snapshots need to render, nothing that can
# hold a form, a token or a generated password (HTML, JSON, scripts, text).
_KEPT_BODIES = re.compile(r"^(text/css|image/|font/|application/font|application/x-font)")
_REMOVED = "[removed]"
_TYPING_METHODS = frozenset({"fill", "type", "pressSequentially", "press", "setInputFiles"})


def scrub_trace(path: Path, redactor: Redactor, target: Path | None = None) -> None:
    """Write the trace archive at `path` to `target` (default: in place) with no credential:
    cookies, authorization and token headers, request bodies, response bodies other than
    styles, images and fonts, secret-looking query values and input values are removed,
    and every known secret is replaced in every member, in every encoding."""
    target = target or path
    secrets_bytes = sorted((s.encode() for s in redactor.secrets), key=len, reverse=True)
    scrubbed = target.with_name(target.name + ".scrubbing")
    with zipfile.ZipFile(path) as source:
        members = source.infolist()
        dropped: set[str] = set()
        rewritten: dict[str, bytes] = {}
        for member in members:
            if member.filename.endswith(".network"):
                rewritten[member.filename] = _scrub_network(source.read(member), dropped)
            elif member.filename.endswith(".trace"):
                rewritten[member.filename] = _scrub_actions(source.read(member))
        with zipfile.ZipFile(scrubbed, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for member in members:
                if PurePosixPath(member.filename).name in dropped:
                    continue  # a request or response body: dropped with its reference
                data = rewritten.get(member.filename)
                if data is None:
                    data = source.read(member)
                for secret in secrets_bytes:
                    data = data.replace(secret, Redactor.MARK.encode())
                out.writestr(member, data)
    os.chmod(scrubbed, 0o600)
    scrubbed.replace(target)


def _json_lines(data: bytes) -> Iterator[Any]:
    for raw in data.decode("utf-8", errors="replace").split("\n"):
        if raw.strip():
            try:
                yield json.loads(raw)
            except ValueError:
                continue  # a line the trace viewer could not read either


def _dump_lines(events: Iterable[Any]) -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode()


def _scrub_network(data: bytes, dropped: set[str]) -> bytes:
    """trace.network: HAR entries without cookies, secret headers or bodies."""
    events = list(_json_lines(data))
    for event in events:
        entry = event.get("snapshot") if isinstance(event, dict) else None
        if not isinstance(entry, dict):
            continue
        for side in ("request", "response"):
            message = entry.get(side)
            if not isinstance(message, dict):
                continue
            message["cookies"] = []
            for header in message.get("headers") or []:
                if isinstance(header, dict) and _SECRET_HEADER.search(str(header.get("name"))):
                    header["value"] = _REMOVED
            for key in ("url", "redirectURL"):
                if isinstance(message.get(key), str):
                    message[key] = _SECRET_QUERY.sub(r"\1" + _REMOVED, message[key])
            for item in message.get("queryString") or []:
                if isinstance(item, dict) and _SECRET_NAME.search(str(item.get("name"))):
                    item["value"] = _REMOVED
        request, response = entry.get("request"), entry.get("response")
        if isinstance(request, dict) and isinstance(request.get("postData"), dict):
            body = request["postData"]
            if isinstance(body.get("_sha1"), str):
                dropped.add(body["_sha1"])
            request["postData"] = {"mimeType": body.get("mimeType", ""), "text": _REMOVED}
        content = response.get("content") if isinstance(response, dict) else None
        if isinstance(content, dict) and not _KEPT_BODIES.match(str(content.get("mimeType"))):
            if isinstance(content.get("_sha1"), str):
                dropped.add(content.pop("_sha1"))
            content.pop("text", None)
            content.pop("encoding", None)
    return _dump_lines(events)


def _scrub_actions(data: bytes) -> bytes:
    """trace.trace: what was typed into a secret-looking field, and the values of password,
    hidden and secret-looking inputs in page snapshots, are removed."""
    events = list(_json_lines(data))
    for event in events:
        if not isinstance(event, dict):
            continue
        params = event.get("params")
        if (
            event.get("type") == "before"
            and event.get("method") in _TYPING_METHODS
            and isinstance(params, dict)
            and _SECRET_NAME.search(str(params.get("selector", "")))
        ):
            for key in ("value", "text", "key"):
                if key in params:
                    params[key] = _REMOVED
        snapshot = event.get("snapshot")
        if event.get("type") == "frame-snapshot" and isinstance(snapshot, dict):
            _scrub_nodes(snapshot.get("html"))
    return _dump_lines(events)


def _scrub_nodes(node: Any) -> None:
    """Walk a snapshot's node tree ([tag, attributes, *children]) and blank secret values."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, list):
            continue
        if len(current) >= 2 and isinstance(current[0], str) and isinstance(current[1], dict):
            tag = current[0].upper()
            _scrub_element(tag, current[1])
            if tag == "TEXTAREA" and _secret_element(current[1]):
                del current[2:]
            stack.extend(current[2:])
        else:
            stack.extend(current)


def _secret_element(attributes: Mapping[str, Any]) -> bool:
    kind = str(attributes.get("type", "")).lower()
    named = " ".join(
        str(attributes.get(name, ""))
        for name in ("name", "id", "autocomplete", "aria-label", "placeholder")
    )
    return kind in ("password", "hidden") or bool(_SECRET_NAME.search(named))


def _scrub_element(tag: str, attributes: dict[str, Any]) -> None:
    if tag in ("INPUT", "TEXTAREA") and _secret_element(attributes):
        for name in ("value", "__playwright_value_"):
            if name in attributes:
                attributes[name] = ""
    elif tag == "META" and _SECRET_NAME.search(str(attributes.get("name", ""))):
        attributes["content"] = ""


class TraceRecorder:
    """Playwright traces of one worker's browser, one per user (or licence batch), recorded
    only while the robot is signed in.

    Sign-in is never in a trace: recording starts after it, and `paused()` ends the part
    recorded so far around a sign-in again (a session that expired during a retry). Each part
    is scrubbed (`scrub_trace`) as soon as it is written, in a private folder outside the
    run folder, and moves into `traces/` only when it is kept."""

    def __init__(
        self, context: BrowserContext, mode: str, traces_dir: Path, redactor: Redactor
    ) -> None:
        self._context = context
        self._mode = mode  # "on" | "off" | "retain-on-failure"
        self._traces_dir = traces_dir
        self._redactor = redactor
        self._parts: list[Path] = []
        self._recording = False
        self._title = ""
        self._scratch: Path | None = None

    @property
    def enabled(self) -> bool:
        return self._mode != "off"

    def begin(self, title: str) -> None:
        if not self.enabled:
            return
        self._discard()
        self._start(title)

    def _start(self, title: str) -> None:
        # DOM snapshots only: secrets in them are scrubbed afterwards, while a screencast
        # frame could show a generated password in pixels no scrub can reach.
        self._context.tracing.start(title=title, screenshots=False, snapshots=True)
        self._recording = True
        self._title = title

    def _stop_into_part(self) -> None:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="onboard-trace-"))
        raw = self._scratch / f"raw-{len(self._parts)}.zip"
        self._context.tracing.stop(path=str(raw))
        self._recording = False
        part = self._scratch / f"part-{len(self._parts)}.zip"
        scrub_trace(raw, self._redactor, part)
        raw.unlink()
        self._parts.append(part)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Leave what happens inside (a sign-in) out of the trace."""
        if not self._recording:
            yield
            return
        title = self._title
        self._stop_into_part()
        try:
            yield
        finally:
            self._start(title)

    def end(self, name: str, *, failed: bool) -> str | None:
        """Stop recording; keep the trace when asked to or when `failed`. Returns the kept
        file relative to the run folder (the last part, where a failure shows), else None."""
        if not self._recording:
            self._discard()
            return None
        if self._mode != "on" and not failed:
            self._context.tracing.stop()
            self._recording = False
            self._discard()
            return None
        self._stop_into_part()
        self._traces_dir.mkdir(mode=0o700, exist_ok=True)
        kept: Path | None = None
        for number, part in enumerate(self._parts, start=1):
            last = number == len(self._parts)
            kept = self._traces_dir / (f"{name}.zip" if last else f"{name}-part{number}.zip")
            shutil.move(part, kept)
            os.chmod(kept, 0o600)
        self._discard()
        return None if kept is None else kept.relative_to(self._traces_dir.parent).as_posix()

    def abandon(self) -> None:
        """Stop a recording left running (the run stopped mid-user) and keep nothing."""
        if self._recording:
            with suppress(PlaywrightError):
                self._context.tracing.stop()
            self._recording = False
        self._discard()

    def _discard(self) -> None:
        self._parts = []
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
