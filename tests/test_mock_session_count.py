"""Each mock portal counts its own signed-in sessions at once, as a portal with a limit does.

Through Flask's test client, with one injected clock for the session store and the
sign-in guard, so that idle limits pass without waiting.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_portal import sessions as session_store
from mock_portal.nextiva import auth as nextiva_auth
from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.sessions import SessionCounter, Span
from mock_portal.xima import XimaConfig
from mock_portal.xima import auth as xima_auth
from mock_portal.xima import create_app as create_xima_app

ADMIN = "admin@example.com"
PASSWORD = "count-these-sessions"
START = 1000.0
IDLE = 60.0


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the session stores and both portals' guards."""
    fake = Clock()
    for guard in (nextiva_auth, xima_auth):
        monkeypatch.setattr(guard, "time", SimpleNamespace(monotonic=fake))
    return fake


def _token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page carries no CSRF token"
    return found.group(1)


def _idle_limit(app: Flask, seconds: float) -> None:
    response = app.test_client().post("/__mock__/faults", json={"session_idle_seconds": seconds})
    assert response.status_code == 200, response.get_json()


def counts(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/__mock__/sessions")
    assert response.status_code == 200
    return response.get_json()


def counter_of(app: Flask) -> SessionCounter:
    counter: SessionCounter = app.extensions["mock_portal"].sessions.counter
    return counter


# ---------- Nextiva ----------


@pytest.fixture
def nextiva(clock: Clock) -> Flask:
    app = create_app(PortalConfig(admin_username=ADMIN, admin_password=PASSWORD), clock=clock)
    _idle_limit(app, IDLE)
    return app


class Admin:
    """An admin's browser on a mock (Nextiva's by default): signs in and out through the
    screens. `field` names the sign-in's user field, `landed` is what the first screen after
    it shows, `home` a page to use the session on."""

    def __init__(
        self,
        app: Flask,
        *,
        field: str = "username",
        landed: str = "Nextiva Voice Admin Dashboard",
        home: str = "/dashboard",
    ) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = ""
        self._field, self._landed, self._home = field, landed, home

    def sign_in(self) -> None:
        form = {"csrf_token": _token(self.client.get("/").text)}
        page = self.client.post(
            "/", data={**form, self._field: ADMIN, "password": PASSWORD}, follow_redirects=True
        )
        assert self._landed in page.text
        self.csrf = _token(page.text)

    def sign_out(self) -> None:
        assert self.client.post("/sign-out", data={"csrf_token": self.csrf}).status_code == 302

    def use(self) -> int:
        return self.client.get(self._home).status_code


def test_two_admins_signed_in_at_once_count_two(nextiva: Flask, clock: Clock) -> None:
    """Two browsers signed in together are two sessions, now and at most."""
    first, second = Admin(nextiva), Admin(nextiva)
    first.sign_in()
    clock.advance(1)
    second.sign_in()
    assert counts(nextiva) == {"now": 2, "most_at_once": 2}
    first.sign_out()
    second.sign_out()
    assert counts(nextiva) == {"now": 0, "most_at_once": 2}


def test_signing_out_and_in_again_counts_one(nextiva: Flask, clock: Clock) -> None:
    """A sign-out and a sign-in at the same instant only touch: one session at most."""
    admin = Admin(nextiva)
    admin.sign_in()
    admin.sign_out()
    admin.sign_in()
    assert counts(nextiva) == {"now": 1, "most_at_once": 1}


def test_an_abandoned_session_stops_counting_after_the_idle_limit(
    nextiva: Flask, clock: Clock
) -> None:
    """No request comes back, yet the session ends at its last use plus the idle limit."""
    abandoned = Admin(nextiva)
    abandoned.sign_in()
    clock.advance(10)
    assert abandoned.use() == 200
    clock.advance(IDLE - 0.5)
    assert counts(nextiva)["now"] == 1
    clock.advance(0.5)
    assert counts(nextiva) == {"now": 0, "most_at_once": 1}
    Admin(nextiva).sign_in()
    assert counts(nextiva) == {"now": 1, "most_at_once": 1}
    assert counter_of(nextiva).ended() == [Span(START, START + 10 + IDLE)]


def test_a_session_the_guard_expires_ends_at_its_last_use_plus_the_idle_limit(
    nextiva: Flask, clock: Clock
) -> None:
    """The guard notices the expiry late, on the next request; the span ends when it expired."""
    admin = Admin(nextiva)
    admin.sign_in()
    clock.advance(10)
    assert admin.use() == 200
    clock.advance(IDLE + 100)
    assert admin.use() == 302
    assert "Your session has expired" in admin.client.get("/").text
    assert counter_of(nextiva).ended() == [Span(START, START + 10 + IDLE)]
    assert counts(nextiva) == {"now": 0, "most_at_once": 1}


def test_a_session_swept_from_the_table_ends_at_its_last_use_plus_the_idle_limit(
    nextiva: Flask, clock: Clock
) -> None:
    """Long after the grace, the table drops the session; its span still ends at expiry."""
    Admin(nextiva).sign_in()
    clock.advance(IDLE + session_store.EXPIRED_GRACE_SECONDS + 1)
    Admin(nextiva).sign_in()
    assert counter_of(nextiva).ended() == [Span(START, START + IDLE)]
    assert counts(nextiva) == {"now": 1, "most_at_once": 1}


def test_a_shorter_idle_limit_ends_idle_sessions_sooner(nextiva: Flask, clock: Clock) -> None:
    """The limit in force when the end is worked out is the one that counts."""
    Admin(nextiva).sign_in()
    clock.advance(20)
    assert counts(nextiva)["now"] == 1
    _idle_limit(nextiva, 15)
    assert counts(nextiva) == {"now": 0, "most_at_once": 1}
    assert counter_of(nextiva).ended() == [Span(START, START + 15)]


def test_reset_starts_the_count_again_from_the_live_sessions(nextiva: Flask, clock: Clock) -> None:
    """After a reset the most at once is what is live; sessions open across it still count."""
    first, second = Admin(nextiva), Admin(nextiva)
    first.sign_in()
    second.sign_in()
    second.sign_out()
    assert counts(nextiva) == {"now": 1, "most_at_once": 2}
    assert nextiva.test_client().post("/__mock__/reset", json={}).status_code == 200
    assert counts(nextiva) == {"now": 1, "most_at_once": 1}
    assert counter_of(nextiva).ended() == []
    assert first.use() == 200
    assert counts(nextiva) == {"now": 1, "most_at_once": 1}


def test_the_single_page_variant_counts_through_its_json_api(clock: Clock) -> None:
    """Variant c signs in and out through the same session store, so it counts the same."""
    config = PortalConfig(admin_username=ADMIN, admin_password=PASSWORD, variant="c")
    app = create_app(config, clock=clock)
    browsers = [app.test_client(), app.test_client()]
    tokens = []
    for browser in browsers:
        csrf = browser.get("/api/v2/session").get_json()["csrf"]
        response = browser.post(
            "/api/v2/sign-in",
            json={"username": ADMIN, "password": PASSWORD},
            headers={"X-CSRFToken": csrf},
        )
        assert response.status_code == 200
        tokens.append(response.get_json()["csrf"])
    assert counts(app) == {"now": 2, "most_at_once": 2}
    signed_out = browsers[0].post("/api/v2/sign-out", json={}, headers={"X-CSRFToken": tokens[0]})
    assert signed_out.status_code == 200
    assert counts(app) == {"now": 1, "most_at_once": 2}


def test_nextiva_session_count_answers_loopback_clients_only(nextiva: Flask) -> None:
    """Like the rest of the oracle, the count refuses another machine."""
    remote = nextiva.test_client()
    remote.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert remote.get("/__mock__/sessions").status_code == 403
    assert nextiva.test_client().get("/__mock__/sessions").status_code == 200


# ---------- Xima ----------


@pytest.fixture
def xima(clock: Clock) -> Flask:
    app = create_xima_app(XimaConfig(admin_email=ADMIN, admin_password=PASSWORD), clock=clock)
    _idle_limit(app, IDLE)
    return app


def xima_admin(app: Flask) -> Admin:
    """An admin's browser on the Xima mock."""
    return Admin(app, field="email", landed="<h1>Users</h1>", home="/users")


def test_xima_counts_two_admins_signed_in_at_once(xima: Flask, clock: Clock) -> None:
    """Two browsers signed in together are two sessions, now and at most."""
    first, second = xima_admin(xima), xima_admin(xima)
    first.sign_in()
    clock.advance(1)
    second.sign_in()
    assert counts(xima) == {"now": 2, "most_at_once": 2}
    first.sign_out()
    assert counts(xima) == {"now": 1, "most_at_once": 2}


def test_xima_signing_out_and_in_again_counts_one(xima: Flask) -> None:
    """A sign-out and a sign-in at the same instant only touch: one session at most."""
    admin = xima_admin(xima)
    admin.sign_in()
    admin.sign_out()
    admin.sign_in()
    assert counts(xima) == {"now": 1, "most_at_once": 1}


def test_xima_ends_abandoned_and_expired_sessions_at_last_use_plus_the_idle_limit(
    xima: Flask, clock: Clock
) -> None:
    """One browser is abandoned, one comes back too late; neither overlaps a later sign-in."""
    abandoned, late = xima_admin(xima), xima_admin(xima)
    abandoned.sign_in()
    late.sign_in()
    clock.advance(10)
    assert late.use() == 200
    clock.advance(IDLE + 100)
    assert late.use() == 302
    xima_admin(xima).sign_in()
    assert counts(xima) == {"now": 1, "most_at_once": 2}
    assert counter_of(xima).ended() == [Span(START, START + IDLE), Span(START, START + 10 + IDLE)]


def test_xima_reset_starts_the_count_again_from_the_live_sessions(xima: Flask) -> None:
    """After a reset the most at once is what is live."""
    first, second = xima_admin(xima), xima_admin(xima)
    first.sign_in()
    second.sign_in()
    second.sign_out()
    assert xima.test_client().post("/__mock__/reset", json={}).status_code == 200
    assert counts(xima) == {"now": 1, "most_at_once": 1}


def test_xima_session_count_answers_loopback_clients_only(xima: Flask) -> None:
    """Like the rest of the oracle, the count refuses another machine and a rebound name."""
    client = xima.test_client()
    remote = client.get("/__mock__/sessions", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403
    rebound = client.get("/__mock__/sessions", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 403
    assert client.get("/__mock__/sessions").status_code == 200


# ---------- the counter itself ----------


def test_the_counter_keeps_a_bounded_history(clock: Clock) -> None:
    """Thousands of sign-ins keep only the last ended spans, and the maximum stays right."""
    counter = SessionCounter(lambda: IDLE, clock, history=3)
    for n in range(1000):
        counter.touch(f"s{n}")
        counter.touch(f"t{n}")
        clock.advance(1)
        counter.end(f"s{n}")
        counter.end(f"t{n}")
    assert counter.counts() == {"now": 0, "most_at_once": 2}
    assert len(counter.ended()) == 3
