"""Server-side sessions: the cookie holds only a random id, the data stays in memory.

Kept in this process on purpose: each portal instance has its own sessions, and resetting
or stopping it forgets them, as a real portal forgets a signed-out browser.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A session whose data lives on the server under `sid`."""

    def __init__(self, sid: str, initial: dict[str, Any] | None = None, new: bool = False) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


class MemorySessionInterface(SessionInterface):
    """Keeps session data in a dict keyed by an unguessable id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, dict[str, Any]] = {}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid:
            with self._lock:
                stored = self._sessions.get(sid)
            if stored is not None:
                return ServerSession(sid, dict(stored))
        return ServerSession(secrets.token_urlsafe(32), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        # Unchanged sessions are not written back: a static file fetched alongside a page
        # must not overwrite what the page's own request just stored.
        if not session.modified and not session.new:
            return
        if not session and session.new:
            return
        with self._lock:
            self._sessions[session.sid] = dict(session)
        if session.new:
            response.set_cookie(
                name,
                session.sid,
                httponly=True,
                samesite="Lax",
                path=self.get_cookie_path(app),
            )

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()


def regenerate(session: SessionMixin) -> None:
    """Give the session a fresh id, as a portal does on sign-in and sign-out."""
    assert isinstance(session, ServerSession)
    session.clear()
    session.sid = secrets.token_urlsafe(32)
    session.new = True
    session.modified = True
