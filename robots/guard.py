"""The deletion guard: a run deletes no more users than a threshold unless allowed by number.

Provisioning services quarantine a job that would delete too much: a roster exported from
the wrong system, or filtered wrongly, would otherwise empty an account overnight. The
threshold is the smaller of DELETE_GUARD_USERS (default 5) and DELETE_GUARD_PERCENT (default
10) of the account's users; the admin allows a larger roster by saying how many deletions
it holds (`--allow-deletes N`). A refused roster deletes nothing at all, and its other rows
go on. Deletions are counted from the roster (its rows that ask for a deletion), before any
is made, so that a run cannot creep past the limit; an account that cannot be counted
allows none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DeletionGuard:
    """The guard's settings for one run."""

    max_users: int = 5
    max_percent: float = 10.0
    allowed: int | None = None  # the number of deletions the admin allowed explicitly

    def limit(self, account_size: int | None) -> int:
        """The most deletions a run may make unasked, for an account of `account_size`."""
        if account_size is None:
            return 0
        share = math.floor(account_size * self.max_percent / 100 + 1e-9)
        return min(self.max_users, share)

    def refusal(self, deletions: int, account_size: int | None) -> str | None:
        """Why `deletions` are refused, or None when they may go ahead."""
        if deletions == 0:
            return None
        limit = self.limit(account_size)
        if deletions <= limit or (self.allowed is not None and self.allowed >= deletions):
            return None
        if account_size is None:
            why = "the account's users could not be counted, so no deletion is made unasked"
        else:
            why = (
                f"more than the limit of {limit} (the smaller of {self.max_users} users and "
                f"{self.max_percent:g} % of the account's {account_size} users)"
            )
        allowed = (
            f"; --allow-deletes {self.allowed} allows fewer" if self.allowed is not None else ""
        )
        return (
            f"deletion guard: the roster deletes {deletions} users, {why}{allowed}. Nothing "
            f"was deleted; if these deletions are meant, run again with --allow-deletes "
            f"{deletions}"
        )
