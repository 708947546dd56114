"""One portal instance at run time: its config, data, faults and the rule for applying writes."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from flask import current_app

from mock_portal.faults import Faults, WriteOutcome
from mock_portal.nextiva.config import PortalConfig
from mock_portal.nextiva.seed import seed_data
from mock_portal.nextiva.store import Store
from mock_portal.sessions import MemorySessionInterface

T = TypeVar("T")
EXTENSION_KEY = "mock_portal"


@dataclass
class ChatFaults:
    """How the chat's agent behaves; set through /__mock__/faults with the `chat_` names."""

    chat_agent_delay_ms: int = 1500
    chat_agent_leaves: bool = False
    chat_agent_unexpected: bool = False

    @classmethod
    def for_profile(cls, profile: str) -> ChatFaults:
        """The defaults of a fault profile: `slow` keeps the admin waiting longer."""
        return cls(chat_agent_delay_ms=8000) if profile == "slow" else cls()

    def configure(self, overrides: Mapping[str, Any]) -> None:
        """Apply overrides; raises ValueError naming a bad value."""
        for name, value in overrides.items():
            if name == "chat_agent_delay_ms":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{name} must be a whole number of milliseconds")
            elif not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            setattr(self, name, value)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


CHAT_SETTINGS = tuple(f.name for f in fields(ChatFaults))


class InjectedFailure(Exception):
    """A write the fault profile answers with HTTP 500."""


class MockPortal:
    """The state of one running mock portal."""

    def __init__(self, config: PortalConfig, sessions: MemorySessionInterface) -> None:
        self.config = config
        self.store = Store(seed_data())
        self.faults = Faults(config.faults, config.session_idle_seconds)
        self.chat_faults = ChatFaults.for_profile(config.faults)
        self.sessions = sessions
        # Variant c builds its element ids and CSS classes on this, so that nothing can
        # lean on them from one start of the portal to the next.
        self.ui_key = "k" + secrets.token_hex(3)
        # Only ever set when the instance is torn down; waiting on it is how the portal
        # plays being slow without holding a stopping server hostage.
        self.stopping = threading.Event()

    @property
    def variant(self) -> str:
        return self.config.variant

    def reset(self) -> None:
        """Back to the seed and the configured faults; open sessions stay open.

        The session count starts again from the sessions live now, judged by the idle
        limit they were used under.
        """
        self.sessions.counter.reset()
        self.store.reset()
        self.faults.reset()
        self.chat_faults = ChatFaults.for_profile(self.config.faults)

    def commit(self, apply: Callable[[], tuple[T, bool]]) -> T:
        """Apply one accepted write, or fail it as the fault profile says.

        `apply` changes the data and returns (result, whether anything changed). Callers
        validate first, holding `store.lock`, so that nothing changes between the check
        and the write.
        """
        with self.store.lock:
            counters = self.store.data.counters
            outcome = self.faults.roll_write()
            if outcome is WriteOutcome.FAIL_BEFORE_APPLY:
                counters.errors_injected += 1
                raise InjectedFailure("write refused before applying")
            result, changed = apply()
            counters.saves += 1
            if changed:
                counters.writes += 1
            if outcome is WriteOutcome.FAIL_AFTER_APPLY:
                counters.errors_injected += 1
                raise InjectedFailure("write applied, then answered with an error")
            return result

    def pause(self, milliseconds: int) -> None:
        """Be slow on purpose: simulated latency is what this portal is for."""
        if milliseconds > 0:
            self.stopping.wait(milliseconds / 1000)


def current_portal() -> MockPortal:
    portal: MockPortal = current_app.extensions[EXTENSION_KEY]
    return portal
