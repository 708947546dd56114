"""One way of doing something on the portal and reading what it answered.

Every save (and every navigation that must end on a known screen) goes through `perform`:
it marks what the page already shows, does the action while listening for HTTP 5xx
answers, waits for the spinner to end, then for something *new*: the expected screen's
heading, the status "Changes saved.", or an alert. What it sees is classified:

- the sign-in screen or "Your session has expired..."  -> SessionExpiredError
- an HTTP 5xx, "Something went wrong", a timeout, an endless spinner -> PortalError
- any other alert -> BusinessError carrying the portal's own words

The wait is one wait on page state, not a loop of short looks: the page itself tells when
an answer shows, when the sign-in screen replaced the screen, and when a request since the
action was answered with a 5xx (from its own resource timeline). A 5xx answer is also
caught from the network, so a save that shows "Changes saved." but was answered with an
error is still reported.

The portal's words are a parameter (`Wording`: its save confirmation, sign-in field, the
texts of an expired session and of a failure, alerts that are no answer, the overlays to
watch), so the mechanism serves any portal; `NEXTIVA` is the default.

It keeps nothing about a page between calls: `prepare` sets a signed-in page up (its
timeout, the overlay handlers) and may be called again, and `perform` listens for 5xx
answers only while it waits for one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import BusinessError, PortalError, SessionExpiredError
from pages.nextiva.banner import watch_banner
from pages.nextiva.chat import ChatBubble
from pages.widgets import with_text_of

DEFAULT_TIMEOUT_MS = 15_000
SAVED = "Changes saved."
SESSION_EXPIRED = "Your session has expired"
SOMETHING_WRONG = "Something went wrong"
# The unsupported-browser banner may be announced as an alert; it is not an answer.
_NOT_AN_ANSWER = ("unsupported browser",)
SIGN_IN_FIELD = "Username or Email"


@dataclass(frozen=True)
class Wording:
    """A portal's own words for what `perform` reads, and the overlays it puts over pages.

    `transient` lists alert texts that mean "try again" (besides `something_wrong`);
    `overlays` put their handlers in place on a page, each replacing its own, so that
    preparing a page again (each sign-in does) never adds one twice.
    """

    saved: str
    session_expired: str
    something_wrong: str
    sign_in_field: str
    not_an_answer: tuple[str, ...] = ()
    transient: tuple[str, ...] = ()
    overlays: Sequence[Callable[[Page], None]] = field(default=())


def _watch_chat_greeting(page: Page) -> None:
    ChatBubble(page).watch_greeting()


NEXTIVA = Wording(
    saved=SAVED,
    session_expired=SESSION_EXPIRED,
    something_wrong=SOMETHING_WRONG,
    sign_in_field=SIGN_IN_FIELD,
    not_an_answer=_NOT_AN_ANSWER,
    overlays=(watch_banner, _watch_chat_greeting),
)

# Before the action: remember every visible status, alert and heading and watch them for
# changes, so that only what the portal shows in answer counts.
# Texts are read as the page's text gives them (`textOf`), never as CSS shows them.
_MARK_JS = with_text_of("""
() => { /*TEXT_OF*/
  const seen = new Map();
  for (const e of document.querySelectorAll(
      '[role=status], output, [role=alert], h1, h2, h3, h4, h5, h6, [role=heading]')) {
    seen.set(e, e.checkVisibility() ? textOf(e, false) : null);
  }
  const changed = new WeakSet();
  // Requests answered with a server error from now on, as the page's own timeline has them.
  const failures = [];
  const timeline = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.responseStatus >= 500) failures.push(entry.responseStatus);
    }
  });
  timeline.observe({type: 'resource'});
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      let node = record.target;
      while (node) {
        if (node.nodeType === 1) changed.add(node);
        node = node.parentNode;
      }
    }
  });
  observer.observe(document, {subtree: true, childList: true, characterData: true});
  if (window.__robotAnswer) {
    window.__robotAnswer.observer.disconnect();
    window.__robotAnswer.timeline.disconnect();
  }
  window.__robotAnswer = {seen, changed, observer, timeline, failures};
}
""")

# The answer, once the page shows one and no spinner: {kind, text} or null. Besides what
# the action asked for (`heading`, `saved`) and any alert, kinds "signed out" (the sign-in
# field shows, unless expected) and "failed" (a request since the action got a 5xx: in this
# document, or the document itself when the action replaced it).
_ANSWER_JS = with_text_of("""
(expected) => { /*TEXT_OF*/
  // A document still loading may show its heading before its own scripts are wired to its
  // controls (and before its stylesheet hides or shows them): nothing counts until loaded.
  if (document.readyState !== 'complete') return null;
  // Shown: visible, with some text shown (its text read from the DOM, hidden parts left out).
  const shown = (e) => e.checkVisibility({visibilityProperty: true}) && textOf(e, false) !== '';
  const busy = [...document.querySelectorAll('[role=progressbar], [aria-busy=true]')]
    .some((e) => e.checkVisibility({visibilityProperty: true}));
  if (busy) return null;
  const state = window.__robotAnswer;
  const fresh = (e) => !state || !state.seen.has(e) || state.changed.has(e)
    || state.seen.get(e) !== textOf(e, false);
  const text = (e) => textOf(e, false);
  const alerts = [...document.querySelectorAll('[role=alert]')]
    .filter((e) => shown(e) && fresh(e))
    .map(text)
    .filter((t) => !expected.ignore.some((i) => t.toLowerCase().includes(i)));
  if (alerts.length) return {kind: 'alert', text: [...new Set(alerts)].join(' ')};
  if (expected.heading) {
    const heading = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]')]
      .find((e) => shown(e) && fresh(e) && text(e) === expected.heading);
    if (heading) return {kind: 'heading', text: expected.heading};
  }
  if (expected.saved) {
    const status = [...document.querySelectorAll('[role=status], output')]
      .find((e) => shown(e) && fresh(e) && text(e).includes(expected.saved));
    if (status) return {kind: 'status', text: text(status)};
  }
  const navigation = state ? null : performance.getEntriesByType('navigation')[0];
  const failed = state ? state.failures[0] : navigation && navigation.responseStatus >= 500
    ? navigation.responseStatus : null;
  if (failed) return {kind: 'failed', text: `HTTP ${failed}`};
  if (!expected.signInExpected) {
    // The field's accessible name, as aria-labelledby, aria-label or its labels (a label
    // for it, or one wrapping it) give it; each alone is also taken, for a label in parts.
    const clean = (t) => (t || '').replace(/\\s+/g, ' ').trim();
    const named = (e) => {
      const byIds = (e.getAttribute('aria-labelledby') || '').split(/\\s+/)
        .map((id) => document.getElementById(id)).filter(Boolean).map((l) => textOf(l, false));
      const labels = [...(e.labels || [])].map((l) => textOf(l, false));
      return [byIds.join(' '), ...byIds, e.getAttribute('aria-label'), labels.join(' '),
        ...labels].some((name) => clean(name) === expected.signInField);
    };
    const field = (e) => e.checkVisibility({visibilityProperty: true}) && named(e);
    if ([...document.querySelectorAll('input')].some(field)) {
      return {kind: 'signed out', text: expected.signInField};
    }
  }
  return null;
}
""")


@dataclass(frozen=True)
class Answer:
    """What the portal showed in answer to an action."""

    kind: str  # "heading" | "status"
    text: str


def prepare(page: Page, timeout_ms: int = DEFAULT_TIMEOUT_MS, wording: Wording = NEXTIVA) -> None:
    """Set the page's timeout and put the overlay handlers in place.

    Done by signing in, before anything else on the page; safe to do again (each overlay
    replaces its own handler).
    """
    page.set_default_timeout(timeout_ms)
    for overlay in wording.overlays:
        overlay(page)


def sign_in_field(page: Page) -> Locator:
    """The sign-in screen's first field: seeing it means the session is gone."""
    return page.get_by_role("textbox", name=SIGN_IN_FIELD, exact=True)


def classify_alert(text: str, what: str, wording: Wording = NEXTIVA) -> Exception:
    """The error an alert stands for, in the portal's `wording`."""
    lowered = text.lower()
    if wording.session_expired.lower() in lowered:
        return SessionExpiredError(f"{what}: {text}")
    if any(t.lower() in lowered for t in (wording.something_wrong, *wording.transient)):
        return PortalError(f"{what}: {text}")
    return BusinessError(text)


def perform(
    page: Page,
    action: Callable[[], object],
    *,
    what: str,
    heading: str | None = None,
    saved: bool = False,
    sign_in_expected: bool = False,
    wording: Wording = NEXTIVA,
) -> Answer:
    """Do `action` and wait for the portal's answer: `heading` shown, or "Changes saved.".

    Raises SessionExpiredError, PortalError or BusinessError as the module docstring says.
    `what` names the action in error messages ("saving the Device section"). The page is
    one `prepare` set up (signing in does).
    """
    # The 5xx answers received since the action began ("HTTP 500").
    failures: list[str] = []

    def note_failure(response: Response) -> None:
        if response.status >= 500:
            failures.append(f"HTTP {response.status}")

    expected: dict[str, object] = {
        "heading": heading,
        "saved": wording.saved if saved else None,
        "ignore": wording.not_an_answer,
        "signInExpected": sign_in_expected,
        "signInField": wording.sign_in_field,
    }
    page.evaluate(_MARK_JS)
    page.on("response", note_failure)
    try:
        try:
            action()
        except PlaywrightTimeoutError as error:
            raise PortalError(f"{what}: the portal did not respond in time") from error
        started = time.monotonic()
        try:
            found = page.wait_for_function(_ANSWER_JS, arg=expected).json_value()
        except PlaywrightTimeoutError as error:
            if failures:
                raise PortalError(f"{what}: the portal answered {failures[0]}") from error
            # The wait ends at the page's timeout: what it waited is what the page allows.
            waited = int(time.monotonic() - started)
            raise PortalError(f"{what}: no answer from the portal within {waited} s") from error
    finally:
        page.remove_listener("response", note_failure)
    if found["kind"] == "alert":
        raise classify_alert(found["text"], what, wording)
    if found["kind"] == "signed out":
        raise SessionExpiredError(f"{what}: the portal showed the sign-in screen")
    if found["kind"] == "failed" or failures:
        # Saved or not, an error answer makes the outcome uncertain: the step re-observes.
        answered = failures[0] if failures else found["text"]
        raise PortalError(f"{what}: the portal answered {answered}")
    return Answer(kind=found["kind"], text=found["text"])


def open_screen(page: Page, action: Callable[[], object], heading: str, *, what: str) -> None:
    """Do `action` (a click, a goto) and wait for the screen with `heading`."""
    perform(page, action, what=what, heading=heading)


def reach(page: Page, action: Callable[[], object], target: Locator, *, what: str) -> None:
    """Do `action` and wait for `target` to show (for screens known by content, not heading)."""
    action()
    try:
        target.or_(sign_in_field(page)).filter(visible=True).first.wait_for(state="visible")
        # Shown is not ready: the screen's scripts may not drive its controls before it loads.
        page.wait_for_load_state()
    except PlaywrightTimeoutError as error:
        raise PortalError(f"{what}: the portal did not show it in time") from error
    if sign_in_field(page).is_visible() and not target.is_visible():
        raise SessionExpiredError(f"{what}: the portal showed the sign-in screen")
