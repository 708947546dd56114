"""Finding a Chromium for the robot, and installing one on a fresh machine.

Order: `BROWSER_EXECUTABLE`; Playwright's own Chromium when it is installed; a system
Chromium (Debian's `chromium`, or Chrome). A headless run prefers Debian's
`chromium-headless-shell`, the lighter build Playwright itself uses for headless runs
(about 15 % less CPU per hire here). `ensure_browser()` installs what is missing: Debian's
packages where apt-get can run, else Playwright's download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from domain.errors import SetupError

# Flags that keep a system Chromium from phoning home: on a closed network each refused
# connection costs start-up time and log noise.
QUIET_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Debian's headless shell: the binary itself, else its wrapper on the PATH.
_HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
_HEADLESS_SHELL_NAME = "chromium-headless-shell"


def _headless_shell() -> str | None:
    if _HEADLESS_SHELL.is_file() and os.access(_HEADLESS_SHELL, os.X_OK):
        return str(_HEADLESS_SHELL)
    return shutil.which(_HEADLESS_SHELL_NAME)


def _has_playwright_chromium() -> bool:
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    return cache.is_dir() and any(cache.glob("chromium-*/chrome-*"))


def find_browser(*, headless: bool = False) -> str | None:
    """The executable to launch, or None to let Playwright use its own Chromium.

    Raises SetupError when no browser can be found at all.
    """
    configured = os.environ.get("BROWSER_EXECUTABLE")
    if configured:
        if not Path(configured).is_file():
            raise SetupError(f"BROWSER_EXECUTABLE={configured} does not exist.")
        return configured
    if _has_playwright_chromium():
        return None
    shell = _headless_shell() if headless else None
    if shell:
        return shell
    for name in _SYSTEM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise SetupError(
        "No Chromium found. Run `make browser`, set BROWSER_EXECUTABLE, "
        "or run `playwright install chromium`."
    )


def launch_options(*, headless: bool = True, slow_mo: float = 0) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch()`.

    Chromium gets an explicit environment without any secret: its processes' environments
    are readable in /proc by the same user and copied into crash reports. (The driver that
    Playwright starts inherits this process's environment, so the settings also remove the
    secrets from it before any browser starts.)
    """
    from robots.settings import child_environment

    options: dict[str, Any] = {
        "headless": headless,
        "args": list(QUIET_FLAGS),
        "env": child_environment(),
    }
    executable = find_browser(headless=headless)
    if executable:
        options["executable_path"] = executable
    if slow_mo:
        options["slow_mo"] = slow_mo
    return options


def apt_install(*packages: str) -> bool:
    """Install Debian packages where this process may (root, apt-get); False otherwise."""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return False
    from robots.settings import child_environment

    env = {**child_environment(), "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)
    return done.returncode == 0


def ensure_browser() -> str:
    """Find a browser, installing one if none is there (and Debian's headless shell beside
    Debian's Chromium). Returns a description of what headless and headed runs use."""
    try:
        found = find_browser()
    except SetupError:
        found = None
        if not apt_install("chromium", _HEADLESS_SHELL_NAME):
            command = [sys.executable, "-m", "playwright", "install", "chromium"]
            subprocess.run(command, check=False)
    if found and not _has_playwright_chromium() and _headless_shell() is None:
        apt_install(_HEADLESS_SHELL_NAME)  # lighter headless runs; Chromium serves without
    headed = find_browser() or "Playwright's Chromium"
    headless = find_browser(headless=True) or "Playwright's Chromium"
    return headed if headed == headless else f"{headless} (headless), {headed} (headed)"


def ensure_display_server() -> bool:
    """Install Xvfb for headed runs on a machine without a display, where possible."""
    return bool(shutil.which("Xvfb")) or apt_install("xvfb", "xauth")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "find"
    if command == "ensure":
        print(f"browser: {ensure_browser()}")
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            print(f"xvfb: {'ready' if ensure_display_server() else 'not available'}")
    else:
        print(find_browser() or "Playwright's Chromium")
