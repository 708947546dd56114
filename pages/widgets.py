"""Widgets every screen shares, driven the way a person uses them.

A dropdown may be a native `<select>` or an ARIA combobox with a listbox (PORTAL.md leaves
the choice to the portal), so `Dropdown` handles both. `click` and `set_checked` make a
click land on its target even when the chat bubble floats over it, and tell the page which
element is about to be used (`POINT_AT_HOOK`). `labelled_value` reads
"label / value" text whatever its layout.

Text is read as the page's text gives it (`TEXT_OF_JS`), never as CSS shows it: PORTAL.md
makes names exact as the page's text and accessibility tree give them, while `innerText`
applies `text-transform` (a header styled in capitals reads "NAME"). `same_name` compares
such names, tolerating only what styling changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from domain.errors import BusinessError, PortalError

Scope = Page | Locator

# The page function told of each element the robot is about to click or tick, when a page
# defines one: a headed run's narrator (robots/narrator.py) defines it in an init script of
# its browser context, to outline the element for the admin watching. Living in the page,
# it needs no record in the robot of which pages are watched, and costs no round trip.
POINT_AT_HOOK = "__onboardPointAt"

# Scrolls the first element to the viewport centre (where floating widgets rarely sit),
# then tells whether a click at its centre, where Playwright clicks, would reach it, and
# whether it is checked (native or ARIA): one round trip for what `click` and
# `set_checked` need to know. Null while there is no such element (or, if `visible` is
# asked for, none visible) yet. The element is pointed at (`POINT_AT_HOOK`) unless it is
# checked as `unless_checked` says (a checkbox already as wanted is not used).
_CENTRE_AND_HIT_TEST = """
(elements, {visible, unlessChecked}) => {
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
  const pointAt = window.__POINT_AT__;
  if (typeof pointAt === 'function' && checked !== unlessChecked) {
    try { pointAt(element); } catch (e) { /* an outline is never worth a failure */ }
  }
  return {reaches, checked};
}
""".replace("__POINT_AT__", POINT_AT_HOOK)


def _centre(
    target: Locator, *, visible: bool, unless_checked: bool | None = None
) -> dict[str, bool]:
    """Centre `target` and say whether a click reaches it, and whether it is checked.

    Looks first, and waits only when it is not there yet (`visible`: or not visible). The
    page is told the element is about to be used unless it is checked as `unless_checked`.
    """
    arg = {"visible": visible, "unlessChecked": unless_checked}
    found: dict[str, bool] | None = target.evaluate_all(_CENTRE_AND_HIT_TEST, arg)
    if found is None:
        target.wait_for(state="visible" if visible else "attached")
        found = target.evaluate_all(_CENTRE_AND_HIT_TEST, arg)
    if found is None:
        raise PortalError("the element went away before it could be used")
    return found


# A spinner is whatever tells assistive technology that the page is busy.
SPINNER_JS = """
() => [...document.querySelectorAll('[role=progressbar], [aria-busy=true]')].some(
  (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
    && getComputedStyle(e).visibility !== 'hidden')
"""


def click(target: Locator) -> None:
    """Click `target` so the click lands on it, even under a floating overlay.

    When something still covers the target at the viewport centre (a page too short to
    scroll it clear of the chat bubble), the target is activated from the keyboard as a
    keyboard user would: never by coordinates, never forced.
    """
    found = _centre(target, visible=True)
    if found["reaches"]:
        target.click()
    else:
        target.press("Enter")


def set_checked(checkbox: Locator, checked: bool) -> None:
    """Tick or clear a checkbox (native or ARIA), landing the click as `click` does."""
    found = _centre(checkbox, visible=False, unless_checked=checked)
    if found["checked"] == checked:
        return
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


# `textOf(root, lines)`: the text a person reads in `root`, from the DOM's text (as
# textContent has it: no `text-transform`, no CSS ellipsis, no CSS-drawn icons), leaving out
# what is not shown and not in the accessibility tree (display:none or visibility:hidden
# parts, aria-hidden ones, scripts and styles). With `lines`, each block-level box starts a
# line ("Label" and "value" in two boxes are two lines); otherwise one whitespace-collapsed
# string. Pasted into page scripts in place of `/*TEXT_OF*/`.
TEXT_OF_JS = """
const textOf = (root, lines) => {
  const out = [];
  let line = '';
  const flush = () => {
    const text = line.replace(/\\s+/g, ' ').trim();
    if (text) out.push(text);
    line = '';
  };
  const skipped = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const parent = node.parentElement;
      if (!parent || getComputedStyle(parent).visibility === 'visible') line += node.data;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (skipped.has(node.tagName) || node.getAttribute('aria-hidden') === 'true') return;
    // A select's options are not its text (a label wrapping one would read them all).
    if (node !== root && node.tagName === 'SELECT') return;
    const display = getComputedStyle(node).display;
    if (display === 'none') return;
    if (node.tagName === 'BR') { flush(); return; }
    const block = !display.startsWith('inline') && display !== 'contents';
    if (block) flush();
    for (const child of node.childNodes) walk(child);
    if (block) flush();
  };
  walk(root);
  flush();
  return lines ? out.join('\\n') : out.join(' ');
};
"""


def with_text_of(script: str) -> str:
    """`script` (a function expression) with `textOf` defined inside it."""
    head, _, body = script.partition("/*TEXT_OF*/")
    return head + TEXT_OF_JS + body


_ELLIPSES = ("…", "...")


def clean_name(text: str) -> str:
    """A name as styling may leave it, whitespace runs collapsed."""
    return re.sub(r"\s+", " ", text).strip()


def same_name(shown: str, name: str) -> bool:
    """Whether the page's `shown` text is the contract's `name`: exact, case included, apart
    from what styling changes (whitespace runs; a trailing ellipsis on text cut short)."""
    shown, name = clean_name(shown), clean_name(name)
    if shown == name:
        return True
    for ellipsis in _ELLIPSES:
        if shown.endswith(ellipsis):
            cut = shown.removesuffix(ellipsis).rstrip()
            return bool(cut) and name.startswith(cut)
    return False


def button(scope: Scope, name: str | re.Pattern[str]) -> Locator:
    """A button as PORTAL.md allows it: a `<button>`, an element with role=button (both
    role "button"), or a link styled as one."""
    if isinstance(name, str):
        return scope.get_by_role("button", name=name, exact=True).or_(
            scope.get_by_role("link", name=name, exact=True)
        )
    return scope.get_by_role("button", name=name).or_(scope.get_by_role("link", name=name))


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


# Each option's text (as the page's text gives it) and whether it is a real choice, not a
# placeholder ("Select a location"): native ones have an empty value, ARIA ones are told by
# their words, the only thing a person goes by.
_OPTIONS_JS = with_text_of("""
(options) => { /*TEXT_OF*/
  const placeholder = /^(--|select\\b|choose\\b|please\\b)/i;
  return options.map((o) => {
    const native = o.tagName === 'OPTION';
    const text = native ? o.text.replace(/\\s+/g, ' ').trim() : textOf(o, false);
    const real = native ? o.value !== '' && !o.disabled
      : o.getAttribute('aria-disabled') !== 'true' && text !== '' && !placeholder.test(text);
    return {text, real};
  });
}
""")

# Whether `root` (a select or listbox) holds a real choice yet, for lists that load late.
_HAS_CHOICE_JS = """
(root) => [...root.querySelectorAll('option, [role=option]')].some((o) => o.tagName === 'OPTION'
  ? o.value !== '' && !o.disabled
  : o.getAttribute('aria-disabled') !== 'true'
    && !/^(--|select\\b|choose\\b|please\\b)/i.test(o.textContent.trim())
    && o.textContent.trim() !== '')
"""


class NotOfferedError(BusinessError):
    """A dropdown does not offer the value asked for: the portal would refuse it, so no retry
    can help."""

    @classmethod
    def of(cls, field: str, value: str, offered: Sequence[str]) -> NotOfferedError:
        """The error for `value` missing from the dropdown labelled `field`."""
        return cls(not_offered(field.lower(), value, offered))


def not_offered(column: str, value: str, offered: Sequence[str]) -> str:
    """The words for a value the portal does not offer, naming what it offers."""
    choices = ", ".join(offered) or "nothing"
    return f'{column}: "{value}" is not offered by the portal (offered: {choices})'


def pick_offered(wanted: str, offered: Sequence[str]) -> int | None:
    """The index of the offered text that is `wanted`: the exact one, else the only one that
    styling may have cut short; None when there is none."""
    exact = [i for i, text in enumerate(offered) if clean_name(text) == clean_name(wanted)]
    if exact:
        return exact[0]
    cut = [i for i, text in enumerate(offered) if same_name(text, wanted)]
    return cut[0] if len(cut) == 1 else None


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
            # screen reader finds it too. It may sit anywhere in the document (a portal
            # may render it at the end of the body), hence the page, not the field.
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

    def _read(self, within: Locator) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._options(within).evaluate_all(_OPTIONS_JS)
        return found

    def _read_loaded(self, within: Locator) -> list[dict[str, Any]]:
        """The options, once the list holds a real choice (a list may load after showing)."""
        found = self._read(within)
        if not any(option["real"] for option in found):
            try:
                self.page.wait_for_function(_HAS_CHOICE_JS, arg=within.element_handle())
            except PlaywrightTimeoutError as error:
                raise PortalError(f"the {self.label} dropdown offered nothing in time") from error
            found = self._read(within)
        return found

    def options(self, pattern: re.Pattern[str] | None = None) -> list[str]:
        """The option texts offered now, waiting until one matches `pattern` if given."""
        state = self._state()
        if state["native"]:
            if pattern is not None:
                self.control.get_by_role("option", name=pattern).first.wait_for(state="attached")
            return [option["text"] for option in self._read(self.control)]
        listbox = self._open(state)
        try:
            if pattern is not None:
                listbox.get_by_role("option", name=pattern).first.wait_for(state="visible")
            return [option["text"] for option in self._read(listbox)]
        finally:
            self._close(listbox)

    def offered(self) -> list[str]:
        """The real choices (no placeholder), once the list holds any."""
        state = self._state()
        if state["native"]:
            return [o["text"] for o in self._read_loaded(self.control) if o["real"]]
        listbox = self._open(state)
        try:
            return [o["text"] for o in self._read_loaded(listbox) if o["real"]]
        finally:
            self._close(listbox)

    def choose(self, option: str) -> None:
        """Choose the option whose text is `option` (exact, as `same_name` compares).

        Raises NotOfferedError at once when the dropdown does not offer it: no wait for an
        option that will never come.
        """
        state = self._state()
        if state["native"]:
            found = self._read_loaded(self.control)
            index = pick_offered(option, [o["text"] for o in found])
            if index is None:
                real = [o["text"] for o in found if o["real"]]
                raise NotOfferedError.of(self.label, option, real)
            self.control.select_option(index=index)
            return
        listbox = self._open(state)
        try:
            found = self._read_loaded(listbox)
        except PortalError:
            self._close(listbox)
            raise
        index = pick_offered(option, [o["text"] for o in found])
        if index is None:
            self._close(listbox)
            raise NotOfferedError.of(self.label, option, [o["text"] for o in found if o["real"]])
        click(self._options(listbox).nth(index))
        listbox.wait_for(state="hidden")

    def value(self) -> str:
        """The text of the chosen option ('' when nothing is chosen)."""
        self.control.wait_for(state="attached")
        texts = self.control.evaluate_all(
            with_text_of(
                """(elements) => { /*TEXT_OF*/
                return elements.slice(0, 1).map((e) => e.tagName === 'SELECT'
                  ? (e.selectedOptions[0] ? e.selectedOptions[0].text : '')
                  : e.tagName === 'INPUT' ? e.value : textOf(e, false));
                }"""
            )
        )
        return clean_name(str(texts[0])) if texts else ""


_LINES_JS = with_text_of("(all) => { /*TEXT_OF*/ return all.map((e) => textOf(e, true)); }")
_TEXT_JS = with_text_of("(all) => { /*TEXT_OF*/ return all.map((e) => textOf(e, false)); }")


def text_lines(target: Locator) -> str:
    """The text of `target` as the page gives it, one line per block (waits for it)."""
    target.wait_for(state="attached")
    found: list[str] = target.evaluate_all(_LINES_JS)
    return found[0] if found else ""


def text_of(target: Locator) -> str:
    """The text of `target` as the page gives it, on one line (waits for it)."""
    target.wait_for(state="attached")
    found: list[str] = target.evaluate_all(_TEXT_JS)
    return found[0] if found else ""


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
