"""Shared fixtures: the mock portal on a free port for the whole session, reset per test,
and pytest-playwright pointed at the browser the robot itself would use."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer
from mock_portal.xima import XimaConfig
from mock_portal.xima import create_app as create_xima_app
from robots.browser import launch_options

ADMIN_USERNAME = "admin@example.com"
ADMIN_NAME = "Alex Admin"


class Portal:
    """The running mock portal as tests see it: its URL, admin account and oracle."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.username = username
        self.password = password

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def state(self) -> dict[str, Any]:
        return self._call("__mock__/state")

    def reset(self) -> None:
        self._call("__mock__/reset", {})

    def set_faults(self, profile: str = "none", **overrides: Any) -> None:
        self._call("__mock__/faults", {"profile": profile, **overrides})

    def secrets(self) -> list[str]:
        """Every secret the portal holds (SIP passwords, PINs) plus the admin password."""
        return [*self._call("__mock__/secrets")["secrets"], self.password]

    def user(self, username: str) -> dict[str, Any] | None:
        return next((u for u in self.state()["users"] if u["username"] == username), None)


@pytest.fixture(scope="session")
def portal_server() -> Iterator[PortalServer]:
    password = secrets.token_urlsafe(16)
    config = PortalConfig(
        admin_username=ADMIN_USERNAME, admin_password=password, admin_display_name=ADMIN_NAME
    )
    with PortalServer(create_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(portal_server: PortalServer) -> str:
    return portal_server.url


@pytest.fixture
def portal(portal_server: PortalServer) -> Portal:
    """The mock portal, restored to its seed with no faults."""
    config: PortalConfig = portal_server.app.config["PORTAL"]
    handle = Portal(portal_server.url, config.admin_username, config.admin_password)
    handle.reset()
    handle.set_faults("none")
    return handle


@pytest.fixture(scope="session")
def portal_server_b() -> Iterator[PortalServer]:
    """A second mock portal of variant "b": other widget kinds, one-step sign-in, Users menu."""
    config = PortalConfig(
        admin_username=ADMIN_USERNAME,
        admin_password=secrets.token_urlsafe(16),
        admin_display_name=ADMIN_NAME,
        variant="b",
    )
    with PortalServer(create_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def portal_server_c() -> Iterator[PortalServer]:
    """A third mock portal of variant "c": a single-page app with ARIA widgets and no fixed ids."""
    config = PortalConfig(
        admin_username=ADMIN_USERNAME,
        admin_password=secrets.token_urlsafe(16),
        admin_display_name=ADMIN_NAME,
        variant="c",
    )
    with PortalServer(create_app(config)) as server:
        yield server


@pytest.fixture
def variant() -> str:
    """The portal variant a test drives; override with @pytest.mark.parametrize("variant", ...)."""
    return "a"


@pytest.fixture
def portal_of_variant(variant: str, request: pytest.FixtureRequest) -> Portal:
    """The mock portal of `variant`, restored to its seed with no faults."""
    if variant == "a":
        return request.getfixturevalue("portal")
    server: PortalServer = request.getfixturevalue(f"portal_server_{variant}")
    config: PortalConfig = server.app.config["PORTAL"]
    handle = Portal(server.url, config.admin_username, config.admin_password)
    handle.reset()
    handle.set_faults("none")
    return handle


@pytest.fixture
def signed_in_page(page: Any, portal_of_variant: Portal) -> Any:
    """pytest-playwright's page, signed in to the portal of `variant` through the robot's flow."""
    from flows.nextiva.session import sign_in

    sign_in(page, portal_of_variant.url, portal_of_variant.username, portal_of_variant.password)
    return page


@pytest.fixture
def signed_in_session(signed_in_page: Any, portal_of_variant: Portal) -> Any:
    """The signed-in page as the runner gives it to the steps: a session that knows where
    the admin signed in."""
    from domain.steps import Session

    return Session(signed_in_page, start_url=portal_of_variant.url)


@pytest.fixture(scope="session")
def xima_server() -> Iterator[PortalServer]:
    """The Xima UCaaS mock, served once for the session."""
    config = XimaConfig(
        admin_email=ADMIN_USERNAME,
        admin_password=secrets.token_urlsafe(16),
        admin_display_name=ADMIN_NAME,
    )
    with PortalServer(create_xima_app(config)) as server:
        yield server


@pytest.fixture
def xima(xima_server: PortalServer) -> Portal:
    """The Xima mock, restored to its seed with no faults (the same oracle calls)."""
    config: XimaConfig = xima_server.app.config["PORTAL"]
    handle = Portal(xima_server.url, config.admin_email, config.admin_password)
    handle.reset()
    handle.set_faults("none")
    return handle


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's options (--headed, --slowmo) on the browser the robot itself uses."""
    ours = launch_options(headless=browser_type_launch_args.get("headless", True))
    extra_args = [*browser_type_launch_args.get("args", []), *ours["args"]]
    return {**ours, **browser_type_launch_args, "args": extra_args}
