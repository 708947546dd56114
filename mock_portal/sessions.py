"""Server-side sessions: the cookie holds only a random id, the data stays in memory.

Kept in this process on purpose: each portal instance has its own sessions, and resetting
or stopping it forgets them, as a real portal forgets a signed-out browser.

The table is bounded. A session is stored only once something is written into it (a form
token, a half-done sign-in, a signed-in admin), anonymous and signed-in sessions are kept
in separate pools so that a flood of anonymous visitors can never push a signed-in admin
out, and each pool evicts sessions idle past their lifetime and, when full, the least
recently used one. Signing out or signing in deletes the old id at once, so a cookie saved
before opens nothing afterwards.

`SessionCounter` counts the signed-in sessions live at once, for the oracles of both
mock portals, as a portal that limits parallel sessions does.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, NamedTuple

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


class Span(NamedTuple):
    """One signed-in session's life on the portal's clock, from sign-in to its end."""

    signed_in_at: float
    ended_at: float


class _Live:
    __slots__ = ("last_used", "signed_in_at")

    def __init__(self, at: float) -> None:
        self.signed_in_at = at
        self.last_used = at


class SessionCounter:
    """How many signed-in sessions are live now, and the most that were live at once.

    A portal that limits parallel sessions counts them this way. A signed-in session
    counts from the moment the admin signs in until it ends: signed out, replaced, evicted
    or expired. One that nobody ends (its browser was killed) expires at its last use plus
    the idle limit, whether or not a request ever comes back for it; the limit is read
    when that end is worked out, since the fault settings can change it at run time. So
    each session is a span [signed_in_at, ended_at], and a live one counts while
    now < last_used + idle. Spans that only touch do not overlap: signing out at t and in
    again at t counts one.

    `most_at_once` is the most spans overlapping at one instant since the portal started
    or since `reset`. It is brought up to date at every sign-in, after ending the spans
    whose idle limit has passed, so memory holds only the live spans and the last
    `history` ended ones.

    The session stores call `touch` whenever they write a signed-in session (the sign-in,
    and every request the guard lets through, which notes the session's last use) and
    `end` whenever they delete one.
    """

    def __init__(
        self,
        idle_seconds: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        history: int = 4096,
    ) -> None:
        self._lock = threading.Lock()
        self._idle_seconds = idle_seconds
        self._clock = clock
        # Ordered from least to most recently used, which is also the order they expire in.
        self._live: OrderedDict[str, _Live] = OrderedDict()
        self._ended: deque[Span] = deque(maxlen=history)
        self._most = 0

    def _expire(self, now: float) -> None:
        """End the spans whose idle limit has passed, at last use plus the limit."""
        idle = max(0.0, self._idle_seconds())
        while self._live:
            sid, span = next(iter(self._live.items()))
            if span.last_used + idle > now:
                break
            del self._live[sid]
            self._ended.append(Span(span.signed_in_at, span.last_used + idle))

    def touch(self, sid: str) -> None:
        """A signed-in session was used: start its span, or move its idle limit on."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            span = self._live.get(sid)
            if span is not None:
                span.last_used = now
                self._live.move_to_end(sid)
                return
            # Also a session the guard let through at the very instant it expired: its
            # new span only touches the old one.
            self._live[sid] = _Live(now)
            self._most = max(self._most, len(self._live))

    def end(self, sid: str) -> None:
        """The session was signed out, replaced or evicted: its span ends now."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            span = self._live.pop(sid, None)
            if span is not None:
                self._ended.append(Span(span.signed_in_at, now))

    def end_all(self) -> None:
        """Every session was forgotten at once."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._ended.extend(Span(span.signed_in_at, now) for span in self._live.values())
            self._live.clear()

    def counts(self) -> dict[str, int]:
        """`now` and `most_at_once`, read together."""
        with self._lock:
            self._expire(self._clock())
            return {"now": len(self._live), "most_at_once": self._most}

    def now(self) -> int:
        """How many signed-in sessions are live at this moment."""
        return self.counts()["now"]

    def most_at_once(self) -> int:
        """The most signed-in sessions live at one instant since start or the last reset."""
        return self.counts()["most_at_once"]

    def ended(self) -> list[Span]:
        """The last ended spans, oldest first: for tests that check where a span ended."""
        with self._lock:
            self._expire(self._clock())
            return list(self._ended)

    def reset(self) -> None:
        """Forget the ended spans and the maximum.

        Sessions live at the reset stay live and keep counting, so the maximum starts
        from them.
        """
        with self._lock:
            self._expire(self._clock())
            self._ended.clear()
            self._most = len(self._live)


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
    change at run time through the fault settings); `clock` is for tests. `counter`
    counts the signed-in sessions live at once.
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
        self.counter = SessionCounter(self._idle_seconds, clock)

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
                if signed_in:
                    self.counter.end(sid)

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
                if found[0]:
                    self.counter.end(session.sid)
            pool = self._pools[signed_in]
            pool[session.sid] = _Entry(dict(session), now)
            pool.move_to_end(session.sid)
            if signed_in:
                # Written on sign-in and on every request the guard lets through.
                self.counter.touch(session.sid)
            self._sweep(now)
            while len(pool) > self._caps[signed_in]:
                evicted, _ = pool.popitem(last=False)
                if signed_in:
                    self.counter.end(evicted)
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
            self.counter.end(sid)

    def clear(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.clear()
            self.counter.end_all()


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
