"""Injected trouble: latency, failing writes, expiring sessions, banners and overlapping chat.

A profile names a set of settings (`none`, `slow`, `flaky`); overrides adjust single ones.
Randomness comes from one seeded generator so that a run can be reproduced.
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

# Normal portal slowness: the number list always takes a moment to arrive.
DEFAULT_NUMBERS_DELAY_MS = 300

PROFILES: dict[str, dict[str, Any]] = {
    "none": {},
    "slow": {"latency_ms": 200, "numbers_delay_ms": 1500},
    "flaky": {
        "latency_ms": 50,
        "write_failure_rate": 0.1,
        "failure_after_apply_ratio": 0.5,
        "session_max_requests": 60,
        "banner": True,
        "bubble_overlap": True,
    },
}


class WriteOutcome(enum.Enum):
    """What happens to one accepted write."""

    OK = "ok"
    FAIL_BEFORE_APPLY = "fail_before_apply"
    FAIL_AFTER_APPLY = "fail_after_apply"


@dataclass
class FaultSettings:
    """The effective settings; `session_max_requests` 0 means sessions never run out."""

    profile: str = "none"
    latency_ms: int = 0
    write_failure_rate: float = 0.0
    failure_after_apply_ratio: float = 0.0
    session_idle_seconds: float = 900
    session_max_requests: int = 0
    banner: bool = False
    bubble_overlap: bool = False
    numbers_delay_ms: int = DEFAULT_NUMBERS_DELAY_MS
    seed: int | None = None


_TYPES: dict[str, type] = {
    "latency_ms": int,
    "write_failure_rate": float,
    "failure_after_apply_ratio": float,
    "session_idle_seconds": float,
    "session_max_requests": int,
    "banner": bool,
    "bubble_overlap": bool,
    "numbers_delay_ms": int,
    "seed": int,
}
_RATIOS = ("write_failure_rate", "failure_after_apply_ratio")


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if name == "seed" and value is None:
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if kind is int and value != int(value):
        raise ValueError(f"{name} must be a whole number")
    result = kind(value)
    if result < 0:
        raise ValueError(f"{name} must not be negative")
    if name in _RATIOS and result > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return result


class Faults:
    """The fault settings of one portal instance, changeable while it runs."""

    def __init__(self, profile: str = "none", session_idle_seconds: float = 900) -> None:
        self._lock = threading.Lock()
        self._default_profile = profile
        self._default_idle = session_idle_seconds
        self.settings = FaultSettings()
        self._random = random.Random()
        self.configure(profile)

    def reset(self) -> dict[str, Any]:
        return self.configure(self._default_profile)

    def configure(self, profile: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Apply a profile plus overrides; raises ValueError naming a bad profile or setting."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        values: dict[str, Any] = {"session_idle_seconds": self._default_idle}
        values.update(PROFILES[profile])
        for name, value in (overrides or {}).items():
            if name not in _TYPES:
                raise ValueError(f"unknown setting {name!r}")
            values[name] = _coerce(name, value)
        settings = FaultSettings(profile=profile, **values)
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return asdict(self.settings)

    def roll_write(self) -> WriteOutcome:
        """Decide the fate of one accepted write."""
        with self._lock:
            settings = self.settings
            if settings.write_failure_rate <= 0:
                return WriteOutcome.OK
            if self._random.random() >= settings.write_failure_rate:
                return WriteOutcome.OK
            if self._random.random() < settings.failure_after_apply_ratio:
                return WriteOutcome.FAIL_AFTER_APPLY
            return WriteOutcome.FAIL_BEFORE_APPLY


SETTING_NAMES = tuple(f.name for f in fields(FaultSettings) if f.name != "profile")
