"""What happens around a run: old evidence removed, and a webhook told about failures."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("onboard")


def prune_runs(recordings: Path, keep_days: int, *, keep: Path | None = None) -> list[Path]:
    """Remove run folders older than keep_days (by modification time); returns what went."""
    if keep_days < 0 or not recordings.is_dir():
        return []
    cutoff = time.time() - keep_days * 86400
    removed = []
    for run_dir in recordings.iterdir():
        is_run = run_dir.is_dir() and (run_dir / "audit.jsonl").exists()
        if is_run and run_dir != keep and run_dir.stat().st_mtime < cutoff:
            shutil.rmtree(run_dir)
            removed.append(run_dir)
    return removed


def notify(webhook_url: str, summary: dict[str, Any], *, timeout: float = 10) -> bool:
    """POST the run's summary as JSON; a failed notification is logged, never fatal."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(summary).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "onboard-robot"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as error:
        log.warning("notification failed", error=str(error))
        return False
