"""One Xima mock instance at run time: config, data, faults, sessions, and how writes apply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from mock_portal.faults import Faults, WriteOutcome
from mock_portal.xima.config import XimaConfig
from mock_portal.xima.seed import seed_data
from mock_portal.xima.sessions import TrackedSessionInterface
from mock_portal.xima.store import Counters, Store
from mock_portal.xima.web import InjectedFailure

T = TypeVar("T")
# The name `PortalServer.stop` looks the running portal up by, to wake sleeping requests.
EXTENSION_KEY = "mock_portal"


class XimaPortal:
    """The state of one running Xima mock.

    Registered under the extension key where `PortalServer.stop` looks for the
    `stopping` event that wakes sleeping requests. `clock` is the sessions' clock, for
    tests.
    """

    def __init__(self, config: XimaConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.store = Store(seed_data())
        self.faults = Faults(config.faults, config.session_idle_seconds)
        self.sessions = TrackedSessionInterface(
            lambda: self.faults.settings.session_idle_seconds, self._note_sessions, clock=clock
        )
        # Only ever set when the instance is torn down; waiting on it is how the portal
        # plays being slow without holding a stopping server hostage.
        self.stopping = threading.Event()

    def _note_sessions(self, admin: str, count: int) -> None:
        with self.store.lock:
            peak = self.store.data.counters.peak_sessions
            peak[admin] = max(peak.get(admin, 0), count)

    def reset(self) -> None:
        """Back to the seed and the configured fault profile; open sessions stay open.

        The session count starts again from the sessions live now, judged by the idle
        limit they were used under.
        """
        self.sessions.counter.reset()
        self.store.reset()
        self.faults.reset()

    def snapshot(self) -> dict[str, Any]:
        state = self.store.snapshot()
        state["counters"]["active_sessions"] = self.sessions.signed_in()
        return state

    def commit(self, apply: Callable[[Counters], T]) -> T:
        """Apply one accepted write, or fail it as the fault profile says.

        `apply` changes the data, counts what it changed on the counters it is given, and
        returns the result. Callers check the rules first, holding
        `store.lock`, so that nothing changes between the check and the write.
        """
        with self.store.lock:
            counters = self.store.data.counters
            outcome = self.faults.roll_write()
            if outcome is WriteOutcome.FAIL_BEFORE_APPLY:
                counters.errors_injected += 1
                raise InjectedFailure("write refused before applying")
            result = apply(counters)
            counters.saves += 1
            if outcome is WriteOutcome.FAIL_AFTER_APPLY:
                counters.errors_injected += 1
                raise InjectedFailure("write applied, then answered with an error")
            return result

    def pause(self, milliseconds: int) -> None:
        """Be slow on purpose: simulated latency is what this portal is for."""
        if milliseconds > 0:
            self.stopping.wait(milliseconds / 1000)


def current_portal() -> XimaPortal:
    portal: XimaPortal = current_app.extensions[EXTENSION_KEY]
    return portal
