"""Captions for an admin watching a headed run: who and what is under way, and where.

A caption bar at the top of every page says which user and which step the robot is on, and
the element about to be used gets an outline. Both are marked `aria-hidden` and ignore the
pointer, so they change nothing the robot or the portal sees, and evidence screenshots hide
them (`EVIDENCE_HIDE_CSS`).
"""

from __future__ import annotations

import contextlib
import json

from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError

from pages.widgets import POINT_AT_HOOK

CAPTION_ID = "onboard-robot-caption"
TARGET_CLASS = "onboard-robot-target"
EVIDENCE_HIDE_CSS = (
    f"#{CAPTION_ID} {{ display: none !important; }} "
    # More specific than the outline's own rule, so it wins whatever the stylesheet order.
    f"html body .{TARGET_CLASS}.{TARGET_CLASS} {{ outline: none !important; "
    "box-shadow: none !important; }"
)

# Runs before any page script: the caption survives navigations through sessionStorage.
_INIT_SCRIPT = (
    """
(() => {
  const ID = "__CAPTION_ID__", KEY = "onboard-robot-caption";
  const draw = (text) => {
    if (!document.body) return;
    let bar = document.getElementById(ID);
    if (!bar) {
      bar = document.createElement("div");
      bar.id = ID;
      bar.setAttribute("aria-hidden", "true");
      bar.style.cssText = "position:fixed;top:0;left:50%;transform:translateX(-50%);" +
        "z-index:2147483647;pointer-events:none;background:rgba(17,24,39,.92);color:#fff;" +
        "font:600 15px/1.3 system-ui,sans-serif;padding:8px 18px;border-radius:0 0 10px 10px;" +
        "box-shadow:0 4px 14px rgba(0,0,0,.35)";
      document.body.appendChild(bar);
    }
    bar.textContent = "\\u{1F916} " + text;
  };
  window.__onboardCaption = (text) => { sessionStorage.setItem(KEY, text); draw(text); };
  // Told by the robot's clicks and ticks (pages/widgets.py) of the element about to be used.
  window.__POINT_AT__ = (el) => {
    document.querySelectorAll(".__TARGET_CLASS__")
      .forEach((e) => e.classList.remove("__TARGET_CLASS__"));
    el.classList.add("__TARGET_CLASS__");
  };
  const style = () => {
    const css = document.createElement("style");
    css.textContent = ".__TARGET_CLASS__{outline:3px solid #f59e0b !important;outline-offset:2px;" +
      "box-shadow:0 0 0 6px rgba(245,158,11,.35) !important}";
    document.head.appendChild(css);
    const saved = sessionStorage.getItem(KEY);
    if (saved) draw(saved);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", style);
  else style();
})();
""".replace("__CAPTION_ID__", CAPTION_ID)
    .replace("__TARGET_CLASS__", TARGET_CLASS)
    .replace("__POINT_AT__", POINT_AT_HOOK)
)


class Narrator:
    """Shows the admin what the robot is doing; a no-op unless the run is headed."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def install(self, context: BrowserContext) -> None:
        if self.enabled:
            context.add_init_script(_INIT_SCRIPT)

    def caption(self, page: Page, text: str) -> None:
        if not self.enabled:
            return
        script = f"window.__onboardCaption && window.__onboardCaption({json.dumps(text)})"
        # Mid-navigation this fails; the next page shows the caption from sessionStorage.
        with contextlib.suppress(PlaywrightError):
            page.evaluate(script)

    def point_at(self, target: Locator) -> None:
        """Outline the element about to be used (and only that one)."""
        if not self.enabled:
            return
        with contextlib.suppress(PlaywrightError):  # an outline is never worth a failure
            target.evaluate(
                "(el, cls) => { document.querySelectorAll('.' + cls)"
                ".forEach(e => e.classList.remove(cls)); el.classList.add(cls); }",
                TARGET_CLASS,
            )
