"""Origins: where the admin's credentials may be typed.

A password goes only to a page whose origin (scheme, host, port) is the portal's start
URL's, or one the admin allowed for single sign-on; every portal's sign-in checks it the
same way, right before each field is typed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The origin of `url` as `scheme://host:port` (default port spelled out), or "" when
    it has none (about:blank, data:, a URL too odd to tell)."""
    if "\\" in url:
        # Browsers read a backslash as a slash, Python's parser does not: no origin to trust.
        return ""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ""
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme.lower() not in _DEFAULT_PORTS or not host or port is None:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}:{port}"
