"""The Xima account's data: departments, sites, emergency addresses, numbers and users.

The server is threaded (several browser contexts at once), so every read that decides a
write and the write itself happen under `Store.lock`.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from mock_portal.xima.web import format_phone

SCOPES = ("Basic User", "Site Manager", "Office Manager")


@dataclass
class Address:
    """An emergency address of the account, shown as 'Street, City, ST ZIP'."""

    id: int
    street: str
    city: str
    state: str
    zip_code: str

    @property
    def label(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


@dataclass
class User:
    """A user of the account (people and non-people such as a lobby phone).

    `password` and `voicemail_pin` are secrets: the oracle shows only whether they are set.
    """

    id: int
    first_name: str
    last_name: str
    email: str
    extension: str
    department: str
    site: str
    emergency_address: int
    scope: str
    caller_id: str
    emergency_caller_id: str
    voicemail: bool = True
    phone_extension: bool = True
    password: str | None = None
    voicemail_pin: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Counters:
    """What the oracle reports about traffic; writes count only what changed something."""

    sign_ins: int = 0
    users_added: int = 0
    users_updated: int = 0
    users_deleted: int = 0
    addresses_added: int = 0
    # Every accepted save, whether or not it changed anything.
    saves: int = 0
    errors_injected: int = 0
    peak_sessions: dict[str, int] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        return self.users_added + self.users_updated + self.users_deleted + self.addresses_added


@dataclass
class AccountData:
    """Everything the portal stores for the account."""

    departments: list[str]
    sites: list[str]
    addresses: list[Address]
    # The account's phone numbers, ten digits each; a number is free while no user holds it.
    numbers: list[str]
    users: list[User]
    counters: Counters = field(default_factory=Counters)
    next_user_id: int = 1
    next_address_id: int = 1


def area_code(number: str) -> str:
    return number[:3]


class Store:
    """The account's data behind one re-entrant lock, restorable to its seed."""

    def __init__(self, seed: AccountData) -> None:
        self.lock = threading.RLock()
        self._seed = seed
        self.data = copy.deepcopy(seed)

    def reset(self) -> None:
        with self.lock:
            self.data = copy.deepcopy(self._seed)

    # Look-ups: callers hold the lock when they go on to write.

    def user(self, user_id: int) -> User | None:
        return next((u for u in self.data.users if u.id == user_id), None)

    def address(self, address_id: int) -> Address | None:
        return next((a for a in self.data.addresses if a.id == address_id), None)

    def address_like(self, street: str, city: str, state: str, zip_code: str) -> Address | None:
        """The account's address with these parts, ignoring case and spacing, if any."""

        def key(*parts: str) -> tuple[str, ...]:
            return tuple(" ".join(p.split()).casefold() for p in parts)

        wanted = key(street, city, state, zip_code)
        return next(
            (
                a
                for a in self.data.addresses
                if key(a.street, a.city, a.state, a.zip_code) == wanted
            ),
            None,
        )

    def area_codes(self) -> list[str]:
        return sorted({area_code(n) for n in self.data.numbers})

    def number_holder(self, number: str, *, besides: int | None = None) -> User | None:
        """The user other than `besides` whose caller ID or emergency caller ID is `number`."""
        return next(
            (
                u
                for u in self.data.users
                if u.id != besides and number in (u.caller_id, u.emergency_caller_id)
            ),
            None,
        )

    def free_numbers(self, code: str, *, for_user: int | None = None) -> list[str]:
        """Numbers of area code `code` that no user other than `for_user` holds."""
        return [
            n
            for n in self.data.numbers
            if area_code(n) == code and self.number_holder(n, besides=for_user) is None
        ]

    def extension_holder(self, extension: str, *, besides: int | None = None) -> User | None:
        return next(
            (u for u in self.data.users if u.extension == extension and u.id != besides), None
        )

    def email_holder(self, email: str, *, besides: int | None = None) -> User | None:
        wanted = email.casefold()
        return next(
            (u for u in self.data.users if u.email.casefold() == wanted and u.id != besides), None
        )

    def sorted_users(self) -> list[User]:
        return sorted(
            self.data.users, key=lambda u: (u.last_name.casefold(), u.first_name.casefold(), u.id)
        )

    def search_users(self, query: str) -> list[User]:
        """Users whose name, extension, email, department, site or scope hold every word."""
        words = query.casefold().split()
        found = []
        for user in self.sorted_users():
            haystack = " ".join(
                [user.full_name, user.extension, user.email, user.department, user.site, user.scope]
            ).casefold()
            if all(word in haystack for word in words):
                found.append(user)
        return found

    # Writes: callers hold the lock and have checked the rules.

    def add_user(self, user: User) -> User:
        user.id = self.data.next_user_id
        self.data.next_user_id += 1
        self.data.users.append(user)
        return user

    def add_address(self, street: str, city: str, state: str, zip_code: str) -> Address:
        address = Address(self.data.next_address_id, street, city, state, zip_code)
        self.data.next_address_id += 1
        self.data.addresses.append(address)
        return address

    def delete_user(self, user: User) -> None:
        self.data.users.remove(user)

    # The oracle's views.

    def snapshot(self) -> dict[str, Any]:
        """The account's state without any secret."""
        with self.lock:
            data = self.data
            counters = data.counters
            return {
                "departments": list(data.departments),
                "sites": list(data.sites),
                "addresses": [
                    {
                        "id": a.id,
                        "label": a.label,
                        "street": a.street,
                        "city": a.city,
                        "state": a.state,
                        "zip_code": a.zip_code,
                    }
                    for a in data.addresses
                ],
                "numbers": [
                    {
                        "number": n,
                        "label": format_phone(n),
                        "area_code": area_code(n),
                        "held_by": holder.email if (holder := self.number_holder(n)) else None,
                    }
                    for n in data.numbers
                ],
                "users": [self._user_view(u) for u in self.sorted_users()],
                "counters": {
                    "sign_ins": counters.sign_ins,
                    "users_added": counters.users_added,
                    "users_updated": counters.users_updated,
                    "users_deleted": counters.users_deleted,
                    "addresses_added": counters.addresses_added,
                    "writes": counters.writes,
                    "saves": counters.saves,
                    "errors_injected": counters.errors_injected,
                    "peak_sessions": dict(counters.peak_sessions),
                },
            }

    def _user_view(self, user: User) -> dict[str, Any]:
        address = self.address(user.emergency_address)
        return {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "extension": user.extension,
            "department": user.department,
            "site": user.site,
            "emergency_address": address.label if address else None,
            "scope": user.scope,
            "caller_id": user.caller_id,
            "emergency_caller_id": user.emergency_caller_id,
            "voicemail": user.voicemail,
            "phone_extension": user.phone_extension,
            "password_set": bool(user.password),
            "voicemail_pin_set": bool(user.voicemail_pin),
        }

    def secrets(self) -> list[str]:
        """Every secret the account holds for its users (passwords, voicemail PINs): for
        tests that prove no robot artifact contains one. Never part of `snapshot`."""
        with self.lock:
            found: list[str] = []
            for user in self.data.users:
                found.extend(s for s in (user.password, user.voicemail_pin) if s)
            return found
