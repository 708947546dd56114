"""Running the mock portal in the foreground, for an admin trying the robot by hand."""

from __future__ import annotations

from mock_portal.nextiva import create_app
from mock_portal.nextiva.config import PortalConfig
from mock_portal.server import PortalServer


def run(host: str = "127.0.0.1", port: int = 0, faults: str = "none", variant: str = "a") -> None:
    """Serve a portal built from the environment until Ctrl-C."""
    app = create_app(PortalConfig.from_env(faults=faults, variant=variant))
    server = PortalServer(app, host=host, port=port, quiet=False)
    print(f"Mock portal listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
