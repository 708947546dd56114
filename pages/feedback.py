"""One way of doing something on the portal and reading what it answered.

Every save (and every navigation that must end on a known screen) goes through `perform`:
it marks what the page already shows, does the action while listening for HTTP 5xx
answers, waits for the spinner to end, then for something *new*: the expected screen's
heading, the status "Changes saved.", or an alert. What it sees is classified:

- the sign-in screen or "Your session has expired..."  -> SessionExpiredError
- an HTTP 5xx, "Something went wrong", a timeout, an endless spinner -> PortalError
- any other alert -> BusinessError carrying the portal's own words

It also holds the per-page settings every page object shares (the timeout) and puts the
overlay handlers in place (`prepare`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pages.banner import watch_banner
from pages.chat import ChatBubble
from robots.errors import BusinessError, PortalError, SessionExpiredError

DEFAULT_TIMEOUT_MS = 15_000
SAVED = "Changes saved."
SESSION_EXPIRED = "Your session has expired"
SOMETHING_WRONG = "Something went wrong"
# The unsupported-browser banner may be announced as an alert; it is not an answer.
_NOT_AN_ANSWER = ("unsupported browser",)
# How long one wait for an answer lasts before the robot checks for a 5xx or the sign-in
# screen; the wait itself is on page state, this only bounds each look.
_LOOK_MS = 250

_timeouts: weakref.WeakKeyDictionary[Page, int] = weakref.WeakKeyDictionary()

# Before the action: remember every visible status, alert and heading and watch them for
# changes, so that only what the portal shows in answer counts.
_MARK_JS = """
() => {
  const seen = new Map();
  for (const e of document.querySelectorAll(
      '[role=status], output, [role=alert], h1, h2, h3, h4, h5, h6, [role=heading]')) {
    seen.set(e, e.checkVisibility() ? e.innerText : null);
  }
  const changed = new WeakSet();
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
  if (window.__robotAnswer) window.__robotAnswer.observer.disconnect();
  window.__robotAnswer = {seen, changed, observer};
}
"""

# The answer, once the page shows one and no spinner: {kind, text} or null.
_ANSWER_JS = """
(expected) => {
  const shown = (e) => e.checkVisibility({visibilityProperty: true}) && e.innerText.trim() !== '';
  const busy = [...document.querySelectorAll('[role=progressbar], [aria-busy=true]')]
    .some((e) => e.checkVisibility({visibilityProperty: true}));
  if (busy) return null;
  const state = window.__robotAnswer;
  const fresh = (e) => !state || !state.seen.has(e) || state.changed.has(e)
    || state.seen.get(e) !== e.innerText;
  const text = (e) => e.innerText.replace(/\\s+/g, ' ').trim();
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
  return null;
}
"""


@dataclass(frozen=True)
class Answer:
    """What the portal showed in answer to an action."""

    kind: str  # "heading" | "status"
    text: str


def prepare(page: Page, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Set the page's timeout and put the overlay handlers in place (once per page)."""
    first_time = page not in _timeouts
    _timeouts[page] = timeout_ms
    page.set_default_timeout(timeout_ms)
    if first_time:
        watch_banner(page)
        ChatBubble(page).watch_greeting()


def ensure_prepared(page: Page) -> None:
    """`prepare` with the default timeout unless the caller already prepared the page."""
    if page not in _timeouts:
        prepare(page)


def timeout_of(page: Page) -> int:
    """The timeout the caller chose for this page, in milliseconds."""
    return _timeouts.get(page, DEFAULT_TIMEOUT_MS)


def sign_in_field(page: Page) -> Locator:
    """The sign-in screen's first field: seeing it means the session is gone."""
    return page.get_by_role("textbox", name="Username or Email", exact=True)


def classify_alert(text: str, what: str) -> Exception:
    """The error an alert stands for."""
    if SESSION_EXPIRED.lower() in text.lower():
        return SessionExpiredError(f"{what}: {text}")
    if SOMETHING_WRONG.lower() in text.lower():
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
) -> Answer:
    """Do `action` and wait for the portal's answer: `heading` shown, or "Changes saved.".

    Raises SessionExpiredError, PortalError or BusinessError as the module docstring says.
    `what` names the action in error messages ("saving the Device section").
    """
    failures: list[str] = []

    def note_failure(response: Response) -> None:
        if response.status >= 500:
            failures.append(f"HTTP {response.status}")

    expected: dict[str, object] = {
        "heading": heading,
        "saved": SAVED if saved else None,
        "ignore": _NOT_AN_ANSWER,
    }
    deadline = time.monotonic() + timeout_of(page) / 1000
    page.evaluate(_MARK_JS)
    page.on("response", note_failure)
    try:
        try:
            action()
        except PlaywrightTimeoutError as error:
            raise PortalError(f"{what}: the portal did not respond in time") from error
        while True:
            found = _look(page, expected)
            if found is not None:
                break
            if failures:
                raise PortalError(f"{what}: the portal answered {failures[0]}")
            if not sign_in_expected and sign_in_field(page).is_visible():
                raise SessionExpiredError(f"{what}: the portal showed the sign-in screen")
            if time.monotonic() > deadline:
                raise PortalError(
                    f"{what}: no answer from the portal within {timeout_of(page) // 1000} s"
                )
    finally:
        page.remove_listener("response", note_failure)
    if found["kind"] == "alert":
        raise classify_alert(found["text"], what)
    if failures:
        # Saved or not, an error answer makes the outcome uncertain: the step re-observes.
        raise PortalError(f"{what}: the portal answered {failures[0]}")
    return Answer(kind=found["kind"], text=found["text"])


def _look(page: Page, expected: dict[str, object]) -> dict[str, str] | None:
    try:
        handle = page.wait_for_function(_ANSWER_JS, arg=expected, timeout=_LOOK_MS)
    except PlaywrightTimeoutError:
        return None
    except PlaywrightError as error:
        # A navigation in progress replaces the document under the check: look again.
        if "context was destroyed" in str(error) or "navigat" in str(error):
            return None
        raise
    value = handle.json_value()
    return value if isinstance(value, dict) else None


def open_screen(page: Page, action: Callable[[], object], heading: str, *, what: str) -> None:
    """Do `action` (a click, a goto) and wait for the screen with `heading`."""
    perform(page, action, what=what, heading=heading)


def reach(page: Page, action: Callable[[], object], target: Locator, *, what: str) -> None:
    """Do `action` and wait for `target` to show (for screens known by content, not heading)."""
    action()
    try:
        target.or_(sign_in_field(page)).filter(visible=True).first.wait_for(state="visible")
    except PlaywrightTimeoutError as error:
        raise PortalError(f"{what}: the portal did not show it in time") from error
    if sign_in_field(page).is_visible() and not target.is_visible():
        raise SessionExpiredError(f"{what}: the portal showed the sign-in screen")
