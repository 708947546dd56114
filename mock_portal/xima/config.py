"""Settings of one Xima UCaaS mock instance: admin account, fault profile, idle limit."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from mock_portal.faults import PROFILES


@dataclass
class XimaConfig:
    """What a Xima mock instance is built from; fixed for the instance's lifetime."""

    admin_email: str = "admin@example.com"
    admin_password: str = "mock-admin-password"
    admin_display_name: str = "Alex Admin"
    # Random per instance so that a session cookie from one portal never opens another.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    faults: str = "none"
    session_idle_seconds: float = 900

    def __post_init__(self) -> None:
        if self.faults not in PROFILES:
            known = ", ".join(PROFILES)
            raise ValueError(f"faults must be one of {known}, not {self.faults!r}")

    def __repr__(self) -> str:
        # The password and secret key must never reach a log line through a repr.
        return (
            f"XimaConfig(admin_email={self.admin_email!r}, "
            f"admin_display_name={self.admin_display_name!r}, faults={self.faults!r}, "
            f"session_idle_seconds={self.session_idle_seconds!r})"
        )

    @classmethod
    def from_env(cls, *, faults: str = "none") -> XimaConfig:
        """A config from MOCK_XIMA_ADMIN_EMAIL, MOCK_XIMA_ADMIN_PASSWORD and
        MOCK_XIMA_ADMIN_NAME, where set."""
        defaults = cls()
        return cls(
            admin_email=os.environ.get("MOCK_XIMA_ADMIN_EMAIL") or defaults.admin_email,
            admin_password=os.environ.get("MOCK_XIMA_ADMIN_PASSWORD") or defaults.admin_password,
            admin_display_name=os.environ.get("MOCK_XIMA_ADMIN_NAME")
            or defaults.admin_display_name,
            faults=faults,
        )
