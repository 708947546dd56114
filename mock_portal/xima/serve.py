"""Serving the Xima mock in the foreground, for an admin trying the robot by hand.

`python -m mock_portal.xima.serve --port 8020 --faults flaky`
"""

from __future__ import annotations

import argparse

from mock_portal.faults import PROFILES
from mock_portal.server import PortalServer
from mock_portal.xima import create_app
from mock_portal.xima.config import XimaConfig


def run(host: str = "127.0.0.1", port: int = 0, faults: str = "none") -> None:
    """Serve a Xima portal built from the environment until Ctrl-C."""
    app = create_app(XimaConfig.from_env(faults=faults))
    server = PortalServer(app, host=host, port=port, quiet=False)
    print(f"Xima mock portal listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Xima UCaaS mock portal.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--faults", default="none", choices=sorted(PROFILES))
    args = parser.parse_args(argv)
    run(args.host, args.port, args.faults)


if __name__ == "__main__":
    main()
