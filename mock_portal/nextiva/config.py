"""Settings of one mock portal instance: the admin account, the fault profile and the variant."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

# a and b render on the server and share one family of markup; c is a single-page app.
VARIANTS = ("a", "b", "c")


@dataclass
class PortalConfig:
    """What a mock portal instance is built from; fixed for the instance's lifetime."""

    admin_username: str = "admin@example.com"
    admin_password: str = "mock-admin-password"
    admin_display_name: str = "Alex Admin"
    # Random per instance so that a session cookie from one portal never opens another.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    faults: str = "none"
    variant: str = "a"
    session_idle_seconds: float = 900

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}")

    def __repr__(self) -> str:
        # The password and secret key must never reach a log line through a repr.
        return (
            f"PortalConfig(admin_username={self.admin_username!r}, "
            f"admin_display_name={self.admin_display_name!r}, faults={self.faults!r}, "
            f"variant={self.variant!r}, session_idle_seconds={self.session_idle_seconds!r})"
        )

    @classmethod
    def from_env(cls, *, faults: str = "none", variant: str = "a") -> PortalConfig:
        """A config from MOCK_ADMIN_USERNAME, MOCK_ADMIN_PASSWORD and MOCK_ADMIN_NAME, if set."""
        defaults = cls()
        return cls(
            admin_username=os.environ.get("MOCK_ADMIN_USERNAME") or defaults.admin_username,
            admin_password=os.environ.get("MOCK_ADMIN_PASSWORD") or defaults.admin_password,
            admin_display_name=os.environ.get("MOCK_ADMIN_NAME") or defaults.admin_display_name,
            faults=faults,
            variant=variant,
        )
