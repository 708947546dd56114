"""Serving the mock portal over real HTTP, in a background thread or in the foreground."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log: a portal serving a demo or a test should not flood the terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class PortalServer:
    """A threaded WSGI server on a real port; `port=0` picks a free one.

    `quiet` (the default) drops the access log; `onboard portal` shows it.
    """

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
    ) -> None:
        self.app = app
        handler = _QuietHandler if quiet else WSGIRequestHandler
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows bytes; TCP servers give str
            host = host.decode()
        return f"http://{host}:{port}/"

    def start(self) -> PortalServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        # Requests sleeping through simulated latency wake up instead of delaying the stop.
        portal = self.app.extensions.get("mock_portal")
        if portal is not None:
            portal.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
