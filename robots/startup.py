"""Browser start-up for one worker: Chromium, one context, the captions, the traces.

No video: its frames cannot be masked the way screenshots are, and a generated SIP
password or PIN would show in them. Tracing starts per user, after sign-in (see
TraceRecorder), so the password typed at sign-in is in no trace.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, sync_playwright
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


@dataclass
class WarmBrowser:
    """A browser context a fleet worker keeps open between jobs, signed in to one account.

    Lent to one run at a time (with one worker), which uses its page and never closes it.
    `signed_in` says a run signed in on it, or tried to (the next run only checks that the
    session is still alive, and the worker signs out before giving the context up).
    `offered` is what the portal's lists offered when a run read them (at `offered_at`,
    monotonic), kept for the runs of the next few minutes: a value the admin has just added
    to the portal is seen by the runs after that."""

    context: BrowserContext
    page: Page
    signed_in: bool = False
    offered: Any = None
    offered_at: float = 0.0

    # How long what the portal offered is taken as still true.
    OFFERED_FRESH_SECONDS = 300.0

    def fresh_offered(self) -> Any:
        """What the portal offered, if read recently enough; else None."""
        if time.monotonic() - self.offered_at > self.OFFERED_FRESH_SECONDS:
            return None
        return self.offered

    def keep_offered(self, offered: Any) -> None:
        self.offered, self.offered_at = offered, time.monotonic()


@contextmanager
def lend_browser(
    warm: WarmBrowser, *, trace: str, run_dir: Path, redactor: Redactor
) -> Iterator[Browser]:
    """The warm context for one run, with the run's own trace recorder; left open after."""
    tracer = TraceRecorder(warm.context, trace, run_dir / "traces", redactor)
    try:
        yield Browser(warm.context, tracer)
    finally:
        # A run that stopped in the middle of a user may have left a trace recording.
        tracer.abandon()


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
