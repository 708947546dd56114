"""Browser start-up for one worker: Chromium, one context, the captions, the traces.

No video: its frames cannot be masked the way screenshots are, and a generated SIP
password or PIN would show in them. Tracing starts per user, after sign-in (see
TraceRecorder), so the password typed at sign-in is in no trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from domain.errors import SetupError
from robots.browser import launch_options
from robots.evidence import Redactor, TraceRecorder
from robots.narrator import Narrator


@dataclass
class Browser:
    """A worker's browser context and its trace recorder."""

    context: BrowserContext
    tracer: TraceRecorder


@contextmanager
def start_browser(
    *,
    headed: bool,
    slow_mo: float,
    trace: str,
    run_dir: Path,
    redactor: Redactor,
    narrator: Narrator,
) -> Iterator[Browser]:
    """A browser for one worker, closed on the way out; SetupError when it cannot start."""
    from robots.fleet_settings import browser_ws_endpoint

    # A browser served by Playwright's browser server on another machine, when one is set
    # (BROWSER_WS_ENDPOINT, see docs/scale-out.md); else one launched here.
    remote = browser_ws_endpoint()
    with sync_playwright() as playwright:
        try:
            if remote:
                browser = playwright.chromium.connect(remote, slow_mo=slow_mo or None)
            else:
                browser = playwright.chromium.launch(
                    **launch_options(headless=not headed, slow_mo=slow_mo)
                )
        except PlaywrightError as error:
            raise SetupError(f"the browser could not start: {error.message}") from error
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        narrator.install(context)
        tracer = TraceRecorder(context, trace, run_dir / "traces", redactor)
        try:
            yield Browser(context, tracer)
        finally:
            context.close()
            browser.close()
