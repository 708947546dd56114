"""Call recording, asked of Nextiva Support in one Chat With an Expert per run (seed 000).

Only Support turns call recording on. After a run's other steps, every hire of the run who
wants it, whose Profile says Call Recording Off and who has no request still open in the
ledger (`flows.nextiva.requests`), is named in ONE request in ONE chat: the robot opens
the chat, identifies with the admin's email and the account's security PIN (given, or read
from the dashboard with Show PIN), picks Technical Support > User Setup / Settings >
Something Else, waits for an agent with a bounded patience, confirms name, account number
and PIN, asks for call recording naming each user (name, username, phone number), reads
the case number from the answer, records it, and ends the chat politely.

When the agent asks something the robot cannot answer, leaves, or does not come in time,
the robot does not guess: it ends the chat and marks those users "needs a person" with the
transcript; the next run tries again. A request filed and not yet done is "requested":
everything the robot can do is done, and the follow-up is the admin's (a test call of about
60 seconds once recording is active).

The PIN is a secret: `secret` is told at once, it is typed only into the chat, and every
transcript line has it replaced by "[PIN]".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from domain.errors import BusinessError, RobotError
from domain.nextiva import NewHire
from domain.steps import (
    ALREADY_DONE,
    BLOCKED,
    CHANGE,
    BatchWitness,
    NoBatchWitness,
    RunContext,
    RunOutcome,
    RunPlan,
    RunWitness,
    Session,
    StepOutcome,
    StepPlan,
)
from flows.nextiva.navigate import go_to_dashboard, named_errors, open_user_page, step_errors
from flows.nextiva.requests import NEEDS_PERSON, SENT, Request, RequestLedger, ledger_in
from pages.nextiva.account_menu import AccountMenu
from pages.nextiva.chat import ExpertChat
from pages.nextiva.dashboard import DashboardPage

CALL_RECORDING = "call recording"
# Outcome and plan actions beyond the shared ones.
REQUESTED = "requested"  # a case is open with Support: done as far as the robot can go
CASE_UNKNOWN = "case unknown"  # sent by a run that died before reading the case number
NEEDS_A_PERSON = "needs a person"  # the chat ended without a case; the next run tries again
TOPICS = ("Technical Support", "User Setup / Settings", "Something Else")
FOLLOW_UP = "place a test call of about 60 seconds once call recording is active"
UNKNOWN_ADVICE = (
    "request sent, case number unknown: check the chat history or ask Support "
    "(then `onboard requests clear {usernames}` lets the next run ask again)"
)
PIN_MARK = "[PIN]"

# What an agent's line is, as far as the robot can tell; everything else is left to a person.
_LEFT = re.compile(r"\bleft the chat\b", re.IGNORECASE)
_CASE = re.compile(r"\bcase\s*(?:number\s*)?(?:#\s*)?(\d{8})\b", re.IGNORECASE)
_JOINED = re.compile(r"\bjoined the chat\b", re.IGNORECASE)
_VERIFY = re.compile(r"\baccount number\b.*\bPIN\b|\bPIN\b.*\baccount number\b", re.IGNORECASE)
_NEED = re.compile(
    r"what can i (?:do|help)|how can i help|what do you need|help you with", re.IGNORECASE
)
LEFT, CASE, JOINED, VERIFY, NEED, QUESTION, INFO, TIMEOUT = (
    "left",
    "case",
    "joined",
    "verify",
    "need",
    "question",
    "info",
    "timeout",
)


def classify(line: str) -> str:
    """What an agent's (or the portal's) line asks of the robot."""
    if _LEFT.search(line):
        return LEFT
    if _CASE.search(line):
        return CASE
    if _JOINED.search(line):
        return JOINED
    if _VERIFY.search(line):
        return VERIFY
    if _NEED.search(line):
        return NEED
    if re.search(r"\?(\s|$)", line):
        return QUESTION
    return INFO


@dataclass(frozen=True)
class ChatSettings:
    """Who the robot is in the chat, and how long it waits.

    `account_pin`: from the environment or `.env` if set, else read from the dashboard.
    `admin_name`: the name to confirm; else the account menu's display name.
    `transcripts`: the folder transcripts are written to (owner-only).
    """

    admin_email: str
    account_pin: SecretStr | None = field(default=None, repr=False)
    admin_name: str | None = None
    agent_patience_s: float = 600.0
    reply_patience_s: float = 180.0
    run_id: str = ""
    transcripts: Path | None = None


@dataclass
class CallRecordingResult:
    """What the step did for each hire (or the error that kept it from them), the chat's
    transcript (PIN replaced), and where it was written."""

    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    errors: dict[str, RobotError] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    transcript_path: Path | None = None
    case_number: str | None = None


@dataclass(frozen=True)
class _Seen:
    """A hire as their Profile shows them."""

    hire: NewHire
    on: bool
    phone: str


def _wanted(hires: Sequence[NewHire]) -> list[NewHire]:
    return [hire for hire in hires if hire.call_recording]


def _observe(session: Session, hire: NewHire) -> _Seen:
    with step_errors(hire, CALL_RECORDING, session):
        profile = open_user_page(session, hire).profile
        on = profile.call_recording()
        if on is None:
            raise BusinessError("the Profile shows no Call Recording")
        phone = profile.value("Phone Number") or ""
    return _Seen(hire, on, "" if phone.casefold() == "none" else phone)


def _account_number(session: Session) -> str:
    with named_errors("account", CALL_RECORDING, session):
        go_to_dashboard(session)
        return DashboardPage(session.page).account_number()


def _open_plan(request: Request) -> StepPlan:
    if request.state == SENT:
        return StepPlan(
            CALL_RECORDING,
            REQUESTED,
            f"Case {request.case_number} open since {request.created}; then {FOLLOW_UP}",
        )
    usernames = " ".join(request.usernames)
    return StepPlan(CALL_RECORDING, CASE_UNKNOWN, UNKNOWN_ADVICE.format(usernames=usernames))


def plan_call_recording(
    session: Session, hires: Sequence[NewHire], ledger: RequestLedger
) -> dict[str, StepPlan]:
    """What `request_call_recording` would do for each hire wanting call recording, by
    username: already on, a request still open, or to be asked for in this run's one
    chat. Observes only; files nothing."""
    wanted = _wanted(hires)
    if not wanted:
        return {}
    account = _account_number(session)
    open_requests = ledger.open_requests(account)
    plans: dict[str, StepPlan] = {}
    to_ask: list[str] = []
    for hire in wanted:
        try:
            seen = _observe(session, hire)
        except BusinessError as error:
            plans[hire.username] = StepPlan(CALL_RECORDING, BLOCKED, error.message)
            continue
        if seen.on:
            plans[hire.username] = StepPlan(CALL_RECORDING, ALREADY_DONE, "Call Recording On")
        elif hire.username in open_requests:
            plans[hire.username] = _open_plan(open_requests[hire.username])
        else:
            to_ask.append(hire.username)
    for username in to_ask:
        others = len(to_ask) - 1
        together = f" (one request with {others} other user{'s' * (others != 1)})" if others else ""
        plans[username] = StepPlan(
            CALL_RECORDING, CHANGE, f"ask Support in Chat With an Expert{together}"
        )
    return plans


class _Conversation:
    """The chat's lines as the robot has read them, the PIN replaced in every one."""

    def __init__(self, chat: ExpertChat, pin: str, on_wait: Callable[[str], None]) -> None:
        self.chat = chat
        self.pin = pin
        self.on_wait = on_wait
        self.transcript: list[str] = []
        self.mine: list[str] = []
        self.seen = 0

    def mask(self, text: str) -> str:
        return re.sub(rf"(?<!\d){re.escape(self.pin)}(?!\d)", PIN_MARK, text)

    def _new(self) -> list[str]:
        lines = self.chat.lines()
        fresh = [self.mask(line) for line in lines[self.seen :]]
        self.seen = len(lines)
        self.transcript.extend(fresh)
        return fresh

    def _own(self, line: str) -> bool:
        return any(text and text in line for text in self.mine)

    def send(self, text: str) -> None:
        self.mine.append(self.mask(text))
        self.chat.send(text)

    def wait_for(self, wanted: set[str], patience_s: float, doing: str) -> tuple[str, str]:
        """Read lines until one of a `wanted` kind (or one that leaves or asks something
        else) or until `patience_s` runs out: (kind, line)."""
        deadline = time.monotonic() + patience_s
        while True:
            for line in self._new():
                if self._own(line):
                    continue
                kind = classify(line)
                if kind in wanted or kind in (LEFT, QUESTION):
                    return kind, line
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMEOUT, ""
            self.on_wait(f"{doing} ({int(left)} s of patience left)")
            # A bounded wait on the page's state: the log growing, or a few seconds passing.
            self.chat.wait_for_more_lines(self.seen, min(left, 5.0) * 1000)

    def read_rest(self) -> list[str]:
        return self._new()


def _describe(seen: _Seen) -> str:
    hire = seen.hire
    phone = f", phone {seen.phone}" if seen.phone else ""
    return f"{hire.full_name} (username {hire.username}{phone})"


def request_call_recording(
    session: Session,
    hires: Sequence[NewHire],
    ledger: RequestLedger,
    settings: ChatSettings,
    witness: BatchWitness | None = None,
    *,
    secret: Callable[[str], None] = lambda _value: None,
    on_wait: Callable[[str], None] = lambda _doing: None,
) -> CallRecordingResult:
    """Once per run, after the other steps: ask Support for call recording for every hire
    of `hires` who wants it and still needs asking, in one chat. Returns per-user outcomes
    (or errors) and the transcript. `secret` is told the account PIN; `on_wait` hears what
    the robot is waiting for (for the narrator)."""
    witness = witness or NoBatchWitness()
    result = CallRecordingResult()
    wanted = _wanted(hires)
    if not wanted:
        return result
    ledger.settle_interrupted()
    account = _account_number(session)
    open_requests = ledger.open_requests(account)
    to_ask: list[_Seen] = []
    on: list[str] = []
    for hire in wanted:
        try:
            seen = _observe(session, hire)
        except RobotError as error:
            result.errors[hire.username] = error
            continue
        before: dict[str, object] = {"call recording": "On" if seen.on else "Off"}
        request = open_requests.get(hire.username)
        if seen.on:
            on.append(hire.username)
            result.outcomes[hire.username] = StepOutcome(
                CALL_RECORDING, ALREADY_DONE, before, before, "Call Recording On"
            )
        elif request is not None:
            plan = _open_plan(request)
            if plan.action == REQUESTED:
                case = {**before, "case": request.case_number or ""}
                result.outcomes[hire.username] = StepOutcome(
                    CALL_RECORDING,
                    REQUESTED,
                    before,
                    case,
                    plan.detail,
                    follow_up=_waiting_note(request.case_number or ""),
                )
            else:
                result.outcomes[hire.username] = StepOutcome(
                    CALL_RECORDING, plan.action, before, before, plan.detail, needs_person=True
                )
        else:
            to_ask.append(seen)
    ledger.mark_done(account, on)
    if to_ask:
        _ask(session, account, to_ask, ledger, settings, witness, secret, on_wait, result)
    witness.after_steps(session.page, result.outcomes)
    return result


def _ask(
    session: Session,
    account: str,
    to_ask: list[_Seen],
    ledger: RequestLedger,
    settings: ChatSettings,
    witness: BatchWitness,
    secret: Callable[[str], None],
    on_wait: Callable[[str], None],
    result: CallRecordingResult,
) -> None:
    usernames = [seen.hire.username for seen in to_ask]
    who = ", ".join(usernames)
    stamp = settings.run_id or time.strftime("%Y%m%dT%H%M%S")
    transcript_path = (
        settings.transcripts / f"call-recording-{stamp}.txt" if settings.transcripts else None
    )
    reference = str(transcript_path or "")
    off: dict[str, object] = {"call recording": "Off"}
    conversation: _Conversation | None = None
    request_id: int | None = None
    page = session.page
    try:
        with named_errors(who, CALL_RECORDING, session):
            dashboard = DashboardPage(page)
            if settings.account_pin is not None:
                pin = settings.account_pin.get_secret_value()
                secret(pin)
            else:
                go_to_dashboard(session)
                pin = dashboard.security_pin()
                secret(pin)
            name = settings.admin_name or AccountMenu(page).display_name()
            chat = ExpertChat(page)
            conversation = _Conversation(chat, pin, on_wait)
            chat.open()
            chat.end()  # a conversation left open on this page is not this request's
            chat.start()
            chat.identify(settings.admin_email, pin)
            for topic in TOPICS:
                chat.choose(topic)
            kind, line = conversation.wait_for(
                {VERIFY, NEED}, settings.agent_patience_s, "waiting for an agent"
            )
            if kind == VERIFY:
                conversation.send(f"{name}, account number {account}, PIN {pin}")
                kind, line = conversation.wait_for(
                    {NEED, VERIFY}, settings.reply_patience_s, "waiting for the agent"
                )
                if kind == VERIFY:
                    kind = QUESTION  # asked again: the robot has nothing better to give
            if kind != NEED:
                reason = _why(kind, line, "before the request could be made")
                _give_up(conversation, kind)
                ledger.needs_person(account, usernames, settings.run_id, reference, reason)
                _needs_person(result, to_ask, off, reason, transcript_path)
                return
            request = "Please set up call recording for these users: " + "; ".join(
                _describe(seen) for seen in to_ask
            )
            request_id = ledger.begin(account, usernames, settings.run_id, reference)
            witness.before_write(page, CALL_RECORDING, f"ask Support: {request}", usernames)
            conversation.send(request)
            kind, line = conversation.wait_for(
                {CASE}, settings.reply_patience_s, "waiting for the case number"
            )
            if kind != CASE:
                reason = _why(kind, line, "after the request, without a case number")
                ledger.finish(request_id, NEEDS_PERSON, note=reason)
                _give_up(conversation, kind)
                _needs_person(result, to_ask, off, reason, transcript_path)
                return
            found = _CASE.search(line)
            case_number = found.group(1) if found else ""
            ledger.finish(request_id, SENT, case_number=case_number)
            result.case_number = case_number
            conversation.read_rest()
            # The seed's follow-up stands whether or not the agent has said it yet.
            for seen in to_ask:
                result.outcomes[seen.hire.username] = StepOutcome(
                    CALL_RECORDING,
                    REQUESTED,
                    off,
                    {**off, "case": case_number},
                    f"Case {case_number} filed; then {FOLLOW_UP}",
                    follow_up=_waiting_note(case_number),
                )
            _close(conversation)
    finally:
        if conversation is not None:
            result.transcript = conversation.transcript
            if transcript_path is not None:
                _write(transcript_path, conversation.transcript)
                result.transcript_path = transcript_path


def _waiting_note(case_number: str) -> str:
    return (
        f"call recording requested (Case {case_number}), waiting for Nextiva Support; "
        f"once it is on, {FOLLOW_UP}"
    )


def _why(kind: str, line: str, when: str) -> str:
    if kind == LEFT:
        return f"the agent left the chat {when}"
    if kind == TIMEOUT:
        return f"no answer from the agent in time {when}"
    return f"the agent asked something the robot cannot answer {when}: {line}"


def _needs_person(
    result: CallRecordingResult,
    to_ask: list[_Seen],
    off: dict[str, object],
    reason: str,
    transcript: Path | None,
) -> None:
    where = f" (transcript: {transcript})" if transcript else ""
    for seen in to_ask:
        result.outcomes[seen.hire.username] = StepOutcome(
            CALL_RECORDING,
            NEEDS_A_PERSON,
            off,
            off,
            f"{reason}{where}; the next run asks again",
            needs_person=True,
        )


def _give_up(conversation: _Conversation, kind: str) -> None:
    """End the chat politely without guessing; an agent who left is not written to."""
    if kind not in (LEFT, TIMEOUT):
        conversation.send(
            "Thank you. I cannot answer that here; a colleague will follow up. Goodbye."
        )
    conversation.chat.end()
    conversation.read_rest()


def _close(conversation: _Conversation) -> None:
    conversation.send("Thank you, that is all for today. Goodbye.")
    conversation.chat.wait_for_more_lines(conversation.seen, 5_000)
    conversation.read_rest()
    conversation.chat.end()


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


# -- the once-per-run step, as the runner calls it ---------------------------------------
# The account's security PIN, when the admin gives it (environment or .env); else the robot
# reads it from the dashboard with Show PIN.
ACCOUNT_PIN_SETTING = "NEXTIVA_ACCOUNT_PIN"
TRANSCRIPT_TITLE = "Chat With an Expert: call recording (the PIN replaced)"


def chat_settings(context: RunContext) -> ChatSettings:
    """Who the robot is in the chat, from the run's settings.

    The admin's email is ADMIN_EMAIL, else the portal username when it is an email address.
    Raises BusinessError naming the setting that is missing or wrong (never its value).
    """
    email = context.admin_email
    if not email and "@" in context.admin_username:
        email = context.admin_username
    if not email:
        raise BusinessError(
            "ADMIN_EMAIL is not set and the portal username is not an email address: set "
            "ADMIN_EMAIL (environment or .env) to the email the chat identifies the admin by",
            step=CALL_RECORDING,
        )
    pin = context.settings.get(ACCOUNT_PIN_SETTING)
    if pin is not None and not re.fullmatch(r"\d{4}", pin.get_secret_value().strip()):
        raise BusinessError(
            f"{ACCOUNT_PIN_SETTING} must be the account's 4-digit security PIN",
            step=CALL_RECORDING,
        )
    return ChatSettings(
        admin_email=email,
        account_pin=SecretStr(pin.get_secret_value().strip()) if pin is not None else None,
        agent_patience_s=context.patience_s,
        run_id=context.run_id,
        transcripts=context.run_dir,
    )


def _grouped(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """'a, b: text' for each text, the usernames sharing it together."""
    groups: dict[str, list[str]] = {}
    for username, text in pairs:
        groups.setdefault(text, []).append(username)
    return [f"{', '.join(names)}: {text}" for text, names in groups.items()]


def observe_call_recording(
    session: Session, hires: Sequence[NewHire], context: RunContext
) -> RunPlan:
    """`onboard plan`: per hire, what the run's one chat would do, and the requests the run
    would file and those still open, as notes."""
    ledger = RequestLedger(ledger_in(context.state_dir))
    plans = plan_call_recording(session, hires, ledger)
    asking = [name for name, plan in plans.items() if plan.action == CHANGE]
    notes = []
    if asking:
        notes.append(
            "a run would ask Nextiva Support for call recording in one Chat With an Expert "
            f"for: {', '.join(asking)}"
        )
    notes += _grouped(
        [
            (name, f"{plan.action}: {plan.detail}")
            for name, plan in plans.items()
            if plan.action in (REQUESTED, CASE_UNKNOWN)
        ]
    )
    return RunPlan(plans=plans, notes=notes)


def apply_call_recording(
    session: Session, hires: Sequence[NewHire], witness: RunWitness, context: RunContext
) -> RunOutcome:
    """`onboard run`, once after the other steps: one chat for the hires who need asking;
    the open cases and their follow-up as notes, the transcript for the report."""
    settings = chat_settings(context)
    ledger = RequestLedger(ledger_in(context.state_dir))
    page = session.page
    result = request_call_recording(
        session,
        hires,
        ledger,
        settings,
        witness,
        secret=witness.secret,
        on_wait=lambda doing: witness.waiting(page, doing),
    )
    outcome = RunOutcome(done=dict(result.outcomes), errors=dict(result.errors))
    outcome.notes = _grouped(
        [(name, o.follow_up) for name, o in result.outcomes.items() if o.follow_up]
        + [
            (name, f"{o.action}: {o.detail}")
            for name, o in result.outcomes.items()
            if o.needs_person
        ]
    )
    if result.transcript:
        outcome.texts[TRANSCRIPT_TITLE] = list(result.transcript)
    if result.transcript_path is not None:
        outcome.files.append(result.transcript_path)
    return outcome
