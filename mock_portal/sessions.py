"""Server-side sessions: the cookie holds only a random id, the data stays in memory.

Kept in this process on purpose: each portal instance has its own sessions, and resetting
or stopping it forgets them, as a real portal forgets a signed-out browser.

The table is bounded. A session is stored only once something is written into it (a form
token, a half-done sign-in, a signed-in admin), anonymous and signed-in sessions are kept
in separate pools so that a flood of anonymous visitors can never push a signed-in admin
out, and each pool evicts sessions idle past their lifetime and, when full, the least
recently used one. Signing out or signing in deletes the old id at once, so a cookie saved
before opens nothing afterwards.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, current_app
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

# An anonymous session only carries a form token or a half-done sign-in.
ANONYMOUS_TTL_SECONDS = 15 * 60
ANONYMOUS_CAP = 256
SIGNED_IN_CAP = 1024
# A signed-in session outlives the portal's idle limit by this much, so that an admin who
# comes back soon after still hears that the session expired rather than nothing at all.
EXPIRED_GRACE_SECONDS = 5 * 60


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A session whose data lives on the server under `sid`."""

    def __init__(self, sid: str, initial: dict[str, Any] | None = None, new: bool = False) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False


class _Entry:
    __slots__ = ("data", "last_used")

    def __init__(self, data: dict[str, Any], last_used: float) -> None:
        self.data = data
        self.last_used = last_used


class MemorySessionInterface(SessionInterface):
    """Keeps session data in memory keyed by an unguessable id, in two bounded pools.

    `idle_seconds` gives the portal's current idle limit for signed-in sessions (it can
    change at run time through the fault settings); `clock` is for tests.
    """

    def __init__(
        self,
        *,
        idle_seconds: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        anonymous_cap: int = ANONYMOUS_CAP,
        signed_in_cap: int = SIGNED_IN_CAP,
    ) -> None:
        self._lock = threading.Lock()
        self._idle_seconds = idle_seconds or (lambda: 900.0)
        self._clock = clock
        self._caps = {False: anonymous_cap, True: signed_in_cap}
        # Each pool is ordered from least to most recently used.
        self._pools: dict[bool, OrderedDict[str, _Entry]] = {
            False: OrderedDict(),
            True: OrderedDict(),
        }

    def __len__(self) -> int:
        with self._lock:
            return sum(len(pool) for pool in self._pools.values())

    def _ttl(self, signed_in: bool) -> float:
        if signed_in:
            return max(0.0, self._idle_seconds()) + EXPIRED_GRACE_SECONDS
        return ANONYMOUS_TTL_SECONDS

    def _sweep(self, now: float) -> None:
        """Drop idle sessions; the oldest sit at the front of each pool."""
        for signed_in, pool in self._pools.items():
            ttl = self._ttl(signed_in)
            while pool:
                sid, entry = next(iter(pool.items()))
                if now - entry.last_used <= ttl:
                    break
                del pool[sid]

    def _find(self, sid: str) -> tuple[bool, _Entry] | None:
        for signed_in, pool in self._pools.items():
            entry = pool.get(sid)
            if entry is not None:
                return signed_in, entry
        return None

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid:
            with self._lock:
                now = self._clock()
                self._sweep(now)
                found = self._find(sid)
                if found is not None:
                    signed_in, entry = found
                    entry.last_used = now
                    self._pools[signed_in].move_to_end(sid)
                    return ServerSession(sid, dict(entry.data))
        return ServerSession(secrets.token_urlsafe(32), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        # Unchanged sessions are not written back: a static file fetched alongside a page
        # must not overwrite what the page's own request just stored.
        if not session.modified and not session.new:
            return
        # Nothing stored yet: no session is created for a visitor who needs none.
        if not session and session.new:
            return
        signed_in = bool(session.get("admin"))
        with self._lock:
            now = self._clock()
            found = self._find(session.sid)
            if found is None and not session.new:
                # Deleted while this request ran (signed out, evicted): never bring it back.
                return
            if found is not None and found[0] != signed_in:
                del self._pools[found[0]][session.sid]
            pool = self._pools[signed_in]
            pool[session.sid] = _Entry(dict(session), now)
            pool.move_to_end(session.sid)
            self._sweep(now)
            while len(pool) > self._caps[signed_in]:
                pool.popitem(last=False)
        if session.new:
            response.set_cookie(
                name,
                session.sid,
                httponly=True,
                samesite="Lax",
                path=self.get_cookie_path(app),
            )

    def discard(self, sid: str) -> None:
        """Forget a session id for good: whoever still holds it is signed out."""
        with self._lock:
            for pool in self._pools.values():
                pool.pop(sid, None)

    def clear(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.clear()


def regenerate(session: SessionMixin) -> None:
    """Give the session a fresh id, as a portal does on sign-in and sign-out.

    The old id is deleted on the spot, so a cookie copied before is worth nothing.
    """
    assert isinstance(session, ServerSession)
    interface = current_app.session_interface
    if isinstance(interface, MemorySessionInterface):
        interface.discard(session.sid)
    session.clear()
    session.sid = secrets.token_urlsafe(32)
    session.new = True
    session.modified = True
