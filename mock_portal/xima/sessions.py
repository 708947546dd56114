"""Server-side sessions that know who is signed in: for the oracle's session counters.

Builds on the Nextiva mock's `ServerSession` (the cookie holds only a random id), and adds
what the Xima oracle reports: how many sessions each admin has open now, and the most at
once. A session whose id is replaced (sign-in, sign-out, expiry) is forgotten at once, so
an old cookie never opens the new session's data.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin

from mock_portal.sessions import ServerSession

ADMIN_KEY = "admin"
LAST_SEEN_KEY = "last_seen"


class TrackedSession(ServerSession):
    """A server session that remembers the id it was opened under."""

    def __init__(self, sid: str, initial: dict[str, Any] | None = None, new: bool = False) -> None:
        super().__init__(sid, initial, new)
        self.opened_as = None if new else sid


class TrackedSessionInterface(SessionInterface):
    """Keeps session data in memory keyed by an unguessable id, and counts signed-in ones.

    `idle_seconds` is asked each time, since the fault settings can change it while the
    portal runs; `on_signed_in(admin, count)` hears how many sessions an admin holds
    whenever one of them is saved.
    """

    def __init__(
        self,
        idle_seconds: Callable[[], float],
        on_signed_in: Callable[[str, int], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, dict[str, Any]] = {}
        self._idle_seconds = idle_seconds
        self._on_signed_in = on_signed_in

    def open_session(self, app: Flask, request: Request) -> TrackedSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid:
            with self._lock:
                stored = self._sessions.get(sid)
            if stored is not None:
                return TrackedSession(sid, dict(stored))
        return TrackedSession(secrets.token_urlsafe(32), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, TrackedSession)
        replaced = session.opened_as is not None and session.opened_as != session.sid
        # Unchanged sessions are not written back: a static file fetched alongside a page
        # must not overwrite what the page's own request just stored.
        if not session.modified and not session.new and not replaced:
            return
        with self._lock:
            if replaced:
                self._sessions.pop(session.opened_as or "", None)
            if session or not session.new:
                self._sessions[session.sid] = dict(session)
            admin = session.get(ADMIN_KEY)
            count = self._count(admin) if admin else 0
        if admin and self._on_signed_in is not None:
            self._on_signed_in(admin, count)
        if session.new and session:
            response.set_cookie(
                self.get_cookie_name(app),
                session.sid,
                httponly=True,
                samesite="Lax",
                path=self.get_cookie_path(app),
            )

    def _count(self, admin: str) -> int:
        horizon = time.monotonic() - self._idle_seconds()
        return sum(
            1
            for data in self._sessions.values()
            if data.get(ADMIN_KEY) == admin and float(data.get(LAST_SEEN_KEY, 0)) >= horizon
        )

    def signed_in(self) -> dict[str, int]:
        """Sessions signed in and not idle past the limit, by admin."""
        with self._lock:
            admins = {d[ADMIN_KEY] for d in self._sessions.values() if d.get(ADMIN_KEY)}
            return {admin: n for admin in sorted(admins) if (n := self._count(admin))}

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
