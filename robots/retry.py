"""The retry policy: transient failures are tried again from a fresh look, signed in.

A `PortalError` (timeout, HTTP 5xx, an expired session) or a Playwright error is retried
with exponential back-off, up to MAX_ATTEMPTS in all; before each retry the robot makes
sure it is still signed in (signing in again when the portal ended the session), with the
trace paused so no password is typed into one. Business errors are never retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from domain.errors import PortalError
from domain.portal import PortalKind
from robots.evidence import Redactor
from robots.results import RunResult
from robots.settings import Settings

log = structlog.get_logger("onboard")


class RetryPolicy:
    """Makes the `Retrying` for one step of one user (or one batch) on one page."""

    def __init__(
        self, settings: Settings, kind: PortalKind, redactor: Redactor, counting: threading.Lock
    ) -> None:
        self._settings = settings
        self._kind = kind
        self._redactor = redactor
        self._counting = counting

    def sign_in_again(self, page: Page) -> bool:
        """Sign in again if the portal ended the session; True when it had to."""
        settings = self._settings
        return self._kind.ensure_signed_in(
            page,
            settings.portal_url,
            settings.portal_username,
            settings.portal_password.get_secret_value(),
            timeout_ms=settings.step_timeout_ms,
            sso_origins=tuple(settings.sso_origin_list),
        )

    def retrying(
        self,
        page: Page,
        who: str,
        result: RunResult,
        untraced: Callable[[], AbstractContextManager[None]],
    ) -> Retrying:
        def before_retry(state: RetryCallState) -> None:
            with self._counting:
                result.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.warning("retrying", user=who, error=self._redactor.text(str(error)))
            with untraced():
                signed_in_again = self.sign_in_again(page)
            if signed_in_again:
                with self._counting:
                    result.sign_ins += 1
                    result.re_sign_ins += 1

        return Retrying(
            retry=retry_if_exception_type((PortalError, PlaywrightError)),
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=wait_exponential(multiplier=0.5, max=8),
            before_sleep=before_retry,
            reraise=True,
        )
