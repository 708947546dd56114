"""Widgets every screen shares, driven the way a person uses them.

A dropdown may be a native `<select>` or an ARIA combobox with a listbox (PORTAL.md leaves
the choice to the portal), so `Dropdown` handles both. `click` and `set_checked` make a
click land on its target even when the chat bubble floats over it. `labelled_value` reads
"label / value" text whatever its layout.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from robots.errors import PortalError

_watchers: weakref.WeakKeyDictionary[Page, Callable[[Locator], None]] = weakref.WeakKeyDictionary()

Scope = Page | Locator

# Scrolls the first element to the viewport centre (where floating widgets rarely sit),
# then tells whether a click at its centre, where Playwright clicks, would reach it, and
# whether it is checked (native or ARIA): one round trip for what `click` and
# `set_checked` need to know. Null while there is no such element (or, if `visible` is
# asked for, none visible) yet.
_CENTRE_AND_HIT_TEST = """
(elements, visible) => {
  const element = elements[0];
  if (!element || (visible && !element.checkVisibility({visibilityProperty: true}))) {
    return null;
  }
  element.scrollIntoView({block: 'center', inline: 'center'});
  const box = element.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const reaches = !!hit && (element === hit || element.contains(hit)
    || (!!element.labels && [...element.labels].some((label) => label.contains(hit))));
  const checked = element instanceof HTMLInputElement
    ? element.checked : element.getAttribute('aria-checked') === 'true';
  return {reaches, checked};
}
"""


def _centre(target: Locator, *, visible: bool) -> dict[str, bool]:
    """Centre `target` and say whether a click reaches it, and whether it is checked.

    Looks first, and waits only when it is not there yet (`visible`: or not visible).
    """
    found: dict[str, bool] | None = target.evaluate_all(_CENTRE_AND_HIT_TEST, visible)
    if found is None:
        target.wait_for(state="visible" if visible else "attached")
        found = target.evaluate_all(_CENTRE_AND_HIT_TEST, visible)
    if found is None:
        raise PortalError("the element went away before it could be used")
    return found


# A spinner is whatever tells assistive technology that the page is busy.
SPINNER_JS = """
() => [...document.querySelectorAll('[role=progressbar], [aria-busy=true]')].some(
  (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
    && getComputedStyle(e).visibility !== 'hidden')
"""


def on_use(page: Page, watcher: Callable[[Locator], None]) -> None:
    """Have `watcher` told of each element the robot is about to click or tick on `page`
    (a headed run outlines it for the admin watching)."""
    _watchers[page] = watcher


def _about_to_use(target: Locator) -> None:
    watcher = _watchers.get(target.page)
    if watcher is not None:
        watcher(target)


def click(target: Locator) -> None:
    """Click `target` so the click lands on it, even under a floating overlay.

    When something still covers the target at the viewport centre (a page too short to
    scroll it clear of the chat bubble), the target is activated from the keyboard as a
    keyboard user would: never by coordinates, never forced.
    """
    found = _centre(target, visible=True)
    _about_to_use(target)
    if found["reaches"]:
        target.click()
    else:
        target.press("Enter")


def set_checked(checkbox: Locator, checked: bool) -> None:
    """Tick or clear a checkbox (native or ARIA), landing the click as `click` does."""
    found = _centre(checkbox, visible=False)
    if found["checked"] == checked:
        return
    _about_to_use(checkbox)
    try:
        if found["reaches"]:
            # Playwright checks that the click changed the state.
            checkbox.set_checked(checked)
            return
        checkbox.press("Space")
        changed = checkbox.is_checked() == checked
    except PlaywrightError as error:
        if "did not change its state" not in str(error):
            raise
        changed = False
    # A checkbox that ignored the click is a portal failure, not a silent success.
    if not changed:
        raise PortalError(f"the checkbox did not become {'checked' if checked else 'unchecked'}")


def named(name: str) -> re.Pattern[str]:
    """An accessible name equal to `name` apart from decoration around it (an arrow, an icon)."""
    return re.compile(rf"^\W*{re.escape(name)}\W*$")


def search_box(scope: Scope, name: str) -> Locator:
    """A search field named `name`: a textbox, or a searchbox (an input of type search)."""
    return (
        scope.get_by_role("searchbox", name=name, exact=True)
        .or_(scope.get_by_role("textbox", name=name, exact=True))
        .first
    )


def wait_until_idle(page: Page) -> None:
    """Wait until no spinner is showing."""
    page.wait_for_function(f"() => !({SPINNER_JS})()")


# What a dropdown is and how it stands, in one round trip.
_DROPDOWN_STATE_JS = """
(elements) => {
  const e = elements[0];
  if (!e) return null;
  return {
    native: e.tagName === 'SELECT',
    enabled: e.getAttribute('aria-disabled') !== 'true' && !e.disabled,
    expanded: e.getAttribute('aria-expanded') === 'true',
    owns: (e.getAttribute('aria-controls') || e.getAttribute('aria-owns') || '').trim()
      .split(/\\s+/)[0],
  };
}
"""


class Dropdown:
    """A labelled dropdown: native `<select>` or ARIA combobox + listbox."""

    def __init__(self, scope: Scope, label: str) -> None:
        self.page: Page = scope if isinstance(scope, Page) else scope.page
        self.label = label
        self.control = scope.get_by_role("combobox", name=label, exact=True)

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] | None = self.control.evaluate_all(_DROPDOWN_STATE_JS)
        if state is None:
            self.control.wait_for(state="attached")
            state = self.control.evaluate_all(_DROPDOWN_STATE_JS)
        if state is None:
            raise PortalError(f"the {self.label} dropdown went away")
        return state

    def _listbox(self, owns: str) -> Locator:
        if owns:
            # The listbox has no name of its own: the combobox's id reference is how a
            # screen reader finds it too.
            return self.page.locator(f'[id="{owns}"]')
        return self.page.get_by_role("listbox").filter(visible=True).first

    def _open(self, state: dict[str, Any]) -> Locator:
        if not state["enabled"]:
            self.control.wait_for(state="visible")
            self.page.wait_for_function(
                "(e) => e.getAttribute('aria-disabled') !== 'true' && !e.disabled",
                arg=self.control.element_handle(),
            )
        if not state["expanded"]:
            click(self.control)
            if self.control.get_attribute("aria-expanded") == "false":
                # Some comboboxes open from the keyboard only.
                self.control.press("ArrowDown")
        listbox = self._listbox(state["owns"])
        listbox.wait_for(state="visible")
        return listbox

    def _close(self, listbox: Locator) -> None:
        if listbox.is_visible():
            self.control.press("Escape")
        listbox.wait_for(state="hidden")

    def _options(self, within: Locator) -> Locator:
        return within.get_by_role("option")

    def options(self, pattern: re.Pattern[str] | None = None) -> list[str]:
        """The option texts offered now, waiting until one matches `pattern` if given."""
        state = self._state()
        if state["native"]:
            options = self._options(self.control)
            if pattern is not None:
                self.control.get_by_role("option", name=pattern).first.wait_for(state="attached")
            return [text.strip() for text in options.all_inner_texts()]
        listbox = self._open(state)
        try:
            if pattern is not None:
                listbox.get_by_role("option", name=pattern).first.wait_for(state="visible")
            return [text.strip() for text in self._options(listbox).all_inner_texts()]
        finally:
            self._close(listbox)

    def choose(self, option: str) -> None:
        """Choose the option whose text is exactly `option`."""
        state = self._state()
        if state["native"]:
            self.control.select_option(label=option)
            return
        listbox = self._open(state)
        choice = listbox.get_by_role("option", name=option, exact=True)
        click(choice)
        listbox.wait_for(state="hidden")

    def value(self) -> str:
        """The text of the chosen option ('' when nothing is chosen)."""
        self.control.wait_for(state="attached")
        texts = self.control.evaluate_all(
            """(elements) => elements.slice(0, 1).map((e) => e.tagName === 'SELECT'
                 ? (e.selectedOptions[0] ? e.selectedOptions[0].text : '')
                 : e.tagName === 'INPUT' ? e.value : e.innerText)"""
        )
        return str(texts[0]).strip() if texts else ""


def labelled_value(text: str, label: str) -> str | None:
    """The value next to `label` in a block of label/value text, whatever the layout.

    Handles 'Label: value', 'Label<TAB>value' and 'Label' with the value on the next line
    (definition lists and two-column grids render that way).
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    same_line = re.compile(rf"^{re.escape(label)}\s*[:\t]\s*(.+)$")
    for index, line in enumerate(lines):
        if line.rstrip(":").strip() == label:
            return lines[index + 1] if index + 1 < len(lines) else ""
        match = same_line.match(line)
        if match:
            return match.group(1).strip()
    loose = re.compile(rf"^{re.escape(label)}\s+(.+)$")
    for line in lines:
        match = loose.match(line)
        if match:
            return match.group(1).strip()
    return None


# Before typing into a search box whose list has nothing to lose (empty, or every item
# already mentions the term): watch the screen's main content, the box apart, for the
# list's redraw. A busy mark counts (the wait for it to end follows); a new document too.
_WATCH_REDRAW_JS = """
(box) => {
  const root = box.closest('main, [role=main]') || document.body;
  const watch = {redrawn: false};
  const observer = new MutationObserver((records) => {
    if (records.some((r) => r.target !== box && !box.contains(r.target))) {
      watch.redrawn = true;
      observer.disconnect();
    }
  });
  observer.observe(root, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['aria-busy'],
  });
  window.__robotSearch = watch;
}
"""
_REDRAWN_JS = "() => !window.__robotSearch || window.__robotSearch.redrawn"


def search(page: Page, box: Locator, term: str, stale: Locator) -> None:
    """Type `term` into a search box and wait until the list shows the results for it.

    Waits on what a person sees, not on the network (a portal may filter in the browser):
    the results are in when no listed item lacks the term (`stale`: the listed items not
    mentioning it) and no busy mark shows. When the box holds the term already, that is
    all. Otherwise the list must also have been redrawn for this term: the items lacking
    it go, or, when none was listed, the list changes.
    """
    box.wait_for(state="visible")
    try:
        # Typed into before the screen has loaded, the box may not be wired to its list yet.
        page.wait_for_load_state()
        wait_until_idle(page)
        if box.input_value().strip() != term.strip():
            if stale.count():
                box.fill(term)
                stale.first.wait_for(state="hidden")
            else:
                box.evaluate(_WATCH_REDRAW_JS)
                box.fill(term)
                page.wait_for_function(_REDRAWN_JS)
            wait_until_idle(page)
        stale.first.wait_for(state="hidden")
    except PlaywrightTimeoutError as error:
        raise PortalError(f"the list did not show what the search for {term!r} found") from error
