"""Server-side sessions that know who is signed in: for the oracle's session counters.

Builds on the Nextiva mock's `ServerSession` (the cookie holds only a random id), and adds
what the Xima oracle reports: how many sessions each admin has open now, and the most at
once; the Nextiva mock's `SessionCounter` counts all signed-in sessions live at once. A
session whose id is replaced (sign-in, sign-out, expiry) is forgotten at once, so an old
cookie never opens the new session's data; the table is bounded, so a flood of visitors
cannot grow it without end.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin

from mock_portal.sessions import ServerSession, SessionCounter

ADMIN_KEY = "admin"
LAST_SEEN_KEY = "last_seen"
# An anonymous session only carries a form token.
ANONYMOUS_TTL_SECONDS = 15 * 60
ANONYMOUS_CAP = 256
SIGNED_IN_CAP = 1024
EXPIRED_GRACE_SECONDS = 5 * 60


class TrackedSession(ServerSession):
    """A server session that remembers the id it was opened under."""

    def __init__(self, sid: str, initial: dict[str, Any] | None = None, new: bool = False) -> None:
        super().__init__(sid, initial, new)
        self.opened_as = None if new else sid


class TrackedSessionInterface(SessionInterface):
    """Keeps session data in memory keyed by an unguessable id, and counts signed-in ones.

    Bounded like the Nextiva mock's table: anonymous sessions (a form token) and signed-in
    ones live in separate pools, so a flood of visitors never pushes an admin out; each
    pool drops sessions unused past their lifetime and, when full, the least recently used.
    `idle_seconds` is asked each time, since the fault settings can change it while the
    portal runs; `on_signed_in(admin, count)` hears how many sessions an admin holds
    whenever one of them is saved. `counter` counts the signed-in sessions live at once;
    `clock` is for tests, and must be the guard's clock, as the `last_seen` it notes is
    compared with it.
    """

    def __init__(
        self,
        idle_seconds: Callable[[], float],
        on_signed_in: Callable[[str, int], None] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        anonymous_cap: int = ANONYMOUS_CAP,
        signed_in_cap: int = SIGNED_IN_CAP,
    ) -> None:
        self._lock = threading.Lock()
        # Each pool is ordered from least to most recently used: (data, last used).
        self._pools: dict[bool, OrderedDict[str, tuple[dict[str, Any], float]]] = {
            False: OrderedDict(),
            True: OrderedDict(),
        }
        self._caps = {False: anonymous_cap, True: signed_in_cap}
        self._idle_seconds = idle_seconds
        self._on_signed_in = on_signed_in
        self._clock = clock
        self.counter = SessionCounter(idle_seconds, clock)

    def _lifetime(self, signed_in: bool) -> float:
        if signed_in:
            # Outlives the idle limit a little, so that an admin coming back soon after
            # still hears that the session expired rather than nothing at all.
            return self._idle_seconds() + EXPIRED_GRACE_SECONDS
        return ANONYMOUS_TTL_SECONDS

    def _find(self, sid: str) -> dict[str, Any] | None:
        now = self._clock()
        for signed_in, pool in self._pools.items():
            entry = pool.get(sid)
            if entry is None:
                continue
            if now - entry[1] > self._lifetime(signed_in):
                self._drop(signed_in, sid)
                return None
            pool[sid] = (entry[0], now)
            pool.move_to_end(sid)
            return entry[0]
        return None

    def _store(self, sid: str, data: dict[str, Any]) -> None:
        now = self._clock()
        signed_in = bool(data.get(ADMIN_KEY))
        # Stays in its pool when it stays signed in (or not), so its span goes on.
        self._pools[signed_in].pop(sid, None)
        self._drop(not signed_in, sid)
        pool = self._pools[signed_in]
        pool[sid] = (data, now)
        if signed_in:
            # Written on sign-in and on every request the guard lets through.
            self.counter.touch(sid)
        lifetime = self._lifetime(signed_in)
        while pool:
            oldest_sid, (_, used) = next(iter(pool.items()))
            if len(pool) <= self._caps[signed_in] and now - used <= lifetime:
                break
            self._drop(signed_in, oldest_sid)

    def _drop(self, signed_in: bool, sid: str) -> None:
        if self._pools[signed_in].pop(sid, None) is not None and signed_in:
            self.counter.end(sid)

    def _forget(self, sid: str) -> None:
        for signed_in in self._pools:
            self._drop(signed_in, sid)

    def open_session(self, app: Flask, request: Request) -> TrackedSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid:
            with self._lock:
                stored = self._find(sid)
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
                self._forget(session.opened_as or "")
            if session:
                self._store(session.sid, dict(session))
            else:
                self._forget(session.sid)
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
        horizon = self._clock() - self._idle_seconds()
        return sum(
            1
            for data, _ in self._pools[True].values()
            if data.get(ADMIN_KEY) == admin and float(data.get(LAST_SEEN_KEY, 0)) >= horizon
        )

    def signed_in(self) -> dict[str, int]:
        """Sessions signed in and not idle past the limit, by admin."""
        with self._lock:
            admins = {data[ADMIN_KEY] for data, _ in self._pools[True].values()}
            return {admin: n for admin in sorted(admins) if (n := self._count(admin))}

    def stored(self) -> int:
        """How many sessions the table holds, signed in or not."""
        with self._lock:
            return sum(len(pool) for pool in self._pools.values())
