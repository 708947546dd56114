"""The worker pool: N workers, each with its own browser and sign-in, sharing one queue.

All start their browsers at once; the first signs in alone and the others only once it has
succeeded, so wrong credentials are tried once, never once per worker (the first worker
sets the run's `first_signed_in` event, signed in or failed).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def run_workers(worker: Callable[[bool], None], count: int) -> None:
    """Run `worker(first)` `count` times at once (in this thread when `count` is 1)."""
    if count <= 1:
        worker(True)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="worker") as pool:
        futures = [pool.submit(worker, n == 0) for n in range(count)]
        for future in futures:
            future.result()
