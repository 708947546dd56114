"""Doing something on the Xima portal and reading what it answered, in Xima's own words.

Every save and every screen change goes through `perform`: it marks what the page already
shows, does the action while noting HTTP 5xx answers, waits until no spinner shows, then
for something *new*: the expected heading, the expected status ("User added."), an alert,
or the sign-in screen. What it sees is classified:

- the sign-in screen or "Your session has expired."           -> SessionExpiredError
- an HTTP 5xx, "Something went wrong", a timeout, a user gone  -> PortalError
- any other alert                                              -> BusinessError (portal's words)

Alerts are classified by the shared `pages.feedback.classify_alert` in Xima's words
(`XIMA`). The wait itself stays here: Xima says it is signed out with a heading, not a
field, and confirms each save with its own status. The text reader (`with_text_of`) is the
shared one, so texts are read as the page gives them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import PortalError, SessionExpiredError
from pages import feedback
from pages.widgets import with_text_of

DEFAULT_TIMEOUT_MS = 15_000
SIGN_IN_HEADING = "Sign In"
SIGN_IN_FIELD = "Email"
SESSION_EXPIRED = "Your session has expired"
SOMETHING_WRONG = "Something went wrong"
# A user deleted or changed by someone else between looking and acting: look again.
USER_NOT_FOUND = "User not found"
# A form older than the session it is sent in: reloading the screen mends it.
FORM_EXPIRED = "This form has expired"
XIMA = feedback.Wording(
    saved="",
    session_expired=SESSION_EXPIRED,
    something_wrong=SOMETHING_WRONG,
    sign_in_field=SIGN_IN_FIELD,
    transient=(USER_NOT_FOUND, FORM_EXPIRED),
)

# A maintenance or browser banner may sit on any page; it is closed, never read as an answer.
_BANNER_CLOSE = re.compile(r"^\s*(Dismiss|Close)\s*$", re.IGNORECASE)

# Before the action: remember the visible statuses, alerts and headings and watch them, so
# that only what the portal shows in answer counts.
_MARK_JS = with_text_of("""
() => { /*TEXT_OF*/
  const seen = new Map();
  for (const e of document.querySelectorAll(
      '[role=status], output, [role=alert], h1, h2, h3, h4, h5, h6, [role=heading]')) {
    seen.set(e, e.checkVisibility() ? textOf(e, false) : null);
  }
  const changed = new WeakSet();
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (let node = record.target; node; node = node.parentNode) {
        if (node.nodeType === 1) changed.add(node);
      }
    }
  });
  observer.observe(document, {subtree: true, childList: true, characterData: true});
  if (window.__ximaAnswer) window.__ximaAnswer.observer.disconnect();
  window.__ximaAnswer = {seen, changed, observer};
}
""")

# The answer once the page shows one and is not busy: {kind, text} or null.
_ANSWER_JS = with_text_of("""
(expected) => { /*TEXT_OF*/
  if (document.readyState !== 'complete') return null;
  const shown = (e) => e.checkVisibility({visibilityProperty: true}) && textOf(e, false) !== '';
  const busy = [...document.querySelectorAll('[role=progressbar], [aria-busy=true]')]
    .some((e) => e.checkVisibility({visibilityProperty: true}));
  if (busy) return null;
  const state = window.__ximaAnswer;
  const fresh = (e) => !state || !state.seen.has(e) || state.changed.has(e)
    || state.seen.get(e) !== textOf(e, false);
  const clean = (t) => (t || '').replace(/\\s+/g, ' ').trim();
  const alerts = [...document.querySelectorAll('[role=alert]')]
    .filter((e) => shown(e) && fresh(e)).map((e) => textOf(e, false));
  if (alerts.length) return {kind: 'alert', text: [...new Set(alerts)].join(' ')};
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]')]
    .filter((e) => shown(e) && fresh(e)).map((e) => clean(textOf(e, false)));
  if (expected.heading && headings.includes(expected.heading)) {
    return {kind: 'heading', text: expected.heading};
  }
  if (expected.status) {
    const status = [...document.querySelectorAll('[role=status], output')]
      .find((e) => shown(e) && fresh(e) && textOf(e, false).includes(expected.status));
    if (status) return {kind: 'status', text: clean(textOf(status, false))};
  }
  if (!expected.signInExpected && headings.includes(expected.signInHeading)) {
    return {kind: 'signed out', text: expected.signInHeading};
  }
  return null;
}
""")


def banner_close(page: Page) -> Locator:
    """The button that closes a banner: **Dismiss** (or a browser banner's **close**)."""
    return page.get_by_role("button", name=_BANNER_CLOSE)


def prepare(page: Page, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Set the page's timeout and close any banner whenever it shows before an action.

    Safe to call again: the banner's handler is replaced, not added twice.
    """
    page.set_default_timeout(timeout_ms)
    closer = banner_close(page)
    page.remove_locator_handler(closer)
    page.add_locator_handler(closer, lambda button: button.click(), no_wait_after=True)


def sign_in_heading(page: Page) -> Locator:
    """The sign-in screen's heading: seeing it means the session is gone."""
    return page.get_by_role("heading", name=SIGN_IN_HEADING, exact=True)


def classify_alert(text: str, what: str) -> Exception:
    """The error an alert stands for (`what` names the action for transient ones)."""
    return feedback.classify_alert(text, what, XIMA)


def perform(
    page: Page,
    action: Callable[[], object],
    *,
    what: str,
    heading: str | None = None,
    status: str | None = None,
    sign_in_expected: bool = False,
) -> str:
    """Do `action` and wait for the portal's answer: `heading` shown, or a status holding
    `status`. Returns the text shown. `what` names the action in error messages.

    Raises SessionExpiredError, PortalError or BusinessError as the module docstring says.
    Any HTTP 5xx answer since the action makes it a PortalError even when a confirmation
    shows: the save may or may not have happened, so the step must look again.
    """
    failures: list[int] = []

    def note(response: Response) -> None:
        if response.status >= 500:
            failures.append(response.status)

    expected = {
        "heading": heading,
        "status": status,
        "signInExpected": sign_in_expected,
        "signInHeading": SIGN_IN_HEADING,
    }
    page.evaluate(_MARK_JS)
    page.on("response", note)
    try:
        try:
            action()
        except PlaywrightTimeoutError as error:
            raise PortalError(f"{what}: the portal did not respond in time") from error
        try:
            found = page.wait_for_function(_ANSWER_JS, arg=expected).json_value()
        except PlaywrightTimeoutError as error:
            if failures:
                raise PortalError(f"{what}: the portal answered HTTP {failures[0]}") from error
            raise PortalError(f"{what}: no answer from the portal in time") from error
    finally:
        page.remove_listener("response", note)
    if found["kind"] == "alert":
        raise classify_alert(found["text"], what)
    if found["kind"] == "signed out":
        raise SessionExpiredError(f"{what}: the portal showed the sign-in screen")
    if failures:
        raise PortalError(f"{what}: the portal answered HTTP {failures[0]}")
    return str(found["text"])
