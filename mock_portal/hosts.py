"""The portal answers only at its own address: a loopback name or the address it listens on,
with its own port.

A web page on another site can point its own host name at 127.0.0.1 (DNS rebinding) and
then read and write this portal as if it were that site. Such requests still carry that
site's name in their Host header, so refusing every Host that is not ours shuts them out.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask, abort, request

_LOOPBACK_NAMES = frozenset({"localhost"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_name(host: str) -> bool:
    """Whether a host name means this machine without asking any resolver."""
    if host.casefold() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_is_ours() -> bool:
    """Whether the request's Host header names this server (loopback name or bound address)."""
    header = request.headers.get("Host", "")
    try:
        parts = urlsplit("//" + header)
        name, port = parts.hostname, parts.port
    except ValueError:
        return False
    if not name or parts.username is not None or parts.path:
        return False
    environ = request.environ
    own_port = int(environ.get("SERVER_PORT") or _DEFAULT_PORTS.get(request.scheme, 80))
    if (port or _DEFAULT_PORTS.get(request.scheme, 80)) != own_port:
        return False
    own_name = str(environ.get("SERVER_NAME") or "").strip("[]").casefold()
    return is_loopback_name(name) or name.casefold() == own_name


def refuse_foreign_host() -> None:
    if not host_is_ours():
        abort(421, description="This portal answers only at its own address.")


def init_app(app: Flask) -> None:
    app.before_request(refuse_foreign_host)
