"""The mock portal's data: locations, number pools, packages, users and licences, behind a lock.

The server is threaded (several browser contexts at once), so every read that decides a
write and the write itself happen under `Store.lock`.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Address:
    """A street address, as the E911 Address screen shows it."""

    street: str
    city: str
    state: str
    zip_code: str

    def __str__(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


@dataclass
class Location:
    """A site of the account, with its E911 address and pool of free phone numbers."""

    name: str
    time_zone: str
    area_code: str
    address: Address
    free_numbers: list[str]


@dataclass
class Package:
    """A line package; each user with it uses one line."""

    name: str
    lines_left: int


@dataclass
class Device:
    """The phone assigned to a user. The SIP password never leaves the server."""

    type: str
    auth_name: str
    auth_password: str


@dataclass
class Voicemail:
    """Voicemail-to-email settings."""

    email: str = ""
    send_attachment: bool = False


@dataclass
class User:
    """A user of the account (people and non-people such as a conference room)."""

    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    extension: str
    phone_number: str | None
    location: str
    time_zone: str
    package: str
    voicemail_to_email: bool = False
    authorized_user: bool = False
    pin: str | None = None
    e911_confirmed: bool = False
    e911_address: Address | None = None
    device: Device | None = None
    voicemail: Voicemail = field(default_factory=Voicemail)
    unreachable_number: str | None = None
    welcome_email: bool = False
    # Only Nextiva Support turns it on (a case from Chat With an Expert, then fulfilled).
    call_recording: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def license_label(self) -> str:
        return f"{self.full_name} ({self.username})"


@dataclass
class License:
    """A licence type of the account and who holds its seats."""

    name: str
    seats_total: int
    assigned: list[str] = field(default_factory=list)

    @property
    def seats_used(self) -> int:
        return len(self.assigned)


@dataclass
class Counters:
    """What the oracle reports about traffic: sign-ins, applied changes, injected errors."""

    sign_ins: int = 0
    writes: int = 0
    errors_injected: int = 0
    # Every accepted save, whether or not it changed anything; `writes` counts only changes.
    saves: int = 0


@dataclass
class ChatMessage:
    """One line of a chat's log: who said it ("portal", "agent" or "you") and what."""

    who: str
    text: str


@dataclass
class Chat:
    """A Chat With an Expert conversation, kept on the server so a reload keeps it.

    `state` is "topics" (choosing, `level` of them chosen), "waiting" (for an agent, who
    joins at `joins_at` on the monotonic clock), "verify" (the agent asks for name,
    account number and PIN), "talk" (verified), "left" (the agent left) or "ended".
    Messages never hold the account PIN: it is replaced by "[PIN]" before it is stored.
    """

    id: str
    email: str
    state: str = "topics"
    level: int = 0
    topics: list[str] = field(default_factory=list)
    messages: list[ChatMessage] = field(default_factory=list)
    agent: str | None = None
    joins_at: float = 0.0


@dataclass
class Case:
    """A request Support took in a chat: call recording for `usernames`."""

    number: str
    usernames: list[str]
    chat_id: str
    status: str = "open"  # "open" until Support has done it ("done")


@dataclass
class PortalData:
    """Everything the portal stores for the account."""

    locations: list[Location]
    packages: list[Package]
    users: list[User]
    licenses: list[License]
    # Usernames taken in other accounts: usernames are unique across the whole portal.
    external_usernames: list[str] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    chats: list[Chat] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    next_user_id: int = 1
    # The account summary on the dashboard: the number, and the security PIN behind Show PIN.
    account_number: str = "4820117"
    account_pin: str = "0739"
    next_case: int = 1234567


class Store:
    """The account's data behind one re-entrant lock, restorable to its seed."""

    def __init__(self, seed: PortalData) -> None:
        self.lock = threading.RLock()
        self._seed = seed
        self.data = copy.deepcopy(seed)

    def reset(self) -> None:
        with self.lock:
            self.data = copy.deepcopy(self._seed)

    # Look-ups: callers hold the lock when they go on to write.

    def location(self, name: str) -> Location | None:
        return next((loc for loc in self.data.locations if loc.name == name), None)

    def package(self, name: str) -> Package | None:
        return next((p for p in self.data.packages if p.name == name), None)

    def license(self, name: str) -> License | None:
        return next((lic for lic in self.data.licenses if lic.name == name), None)

    def license_at(self, index: int) -> License | None:
        return self.data.licenses[index] if 0 <= index < len(self.data.licenses) else None

    def user(self, user_id: int) -> User | None:
        return next((u for u in self.data.users if u.id == user_id), None)

    def user_named(self, username: str) -> User | None:
        wanted = username.casefold()
        return next((u for u in self.data.users if u.username.casefold() == wanted), None)

    def username_taken(self, username: str) -> bool:
        wanted = username.casefold()
        return self.user_named(username) is not None or any(
            name.casefold() == wanted for name in self.data.external_usernames
        )

    def extension_holder(self, extension: str) -> User | None:
        return next((u for u in self.data.users if u.extension == extension), None)

    def sorted_users(self) -> list[User]:
        return sorted(
            self.data.users, key=lambda u: (u.last_name.casefold(), u.first_name.casefold(), u.id)
        )

    def search_users(self, query: str) -> list[User]:
        """Users whose name, username, email, extension or phone number contain the query."""
        words = query.casefold().split()
        found = []
        for user in self.sorted_users():
            haystack = " ".join(
                [
                    user.full_name,
                    user.username,
                    user.email,
                    user.extension,
                    user.phone_number or "",
                    format_phone(user.phone_number),
                ]
            ).casefold()
            if all(word in haystack for word in words):
                found.append(user)
        return found

    def add_user(self, user: User) -> User:
        user.id = self.data.next_user_id
        self.data.next_user_id += 1
        self.data.users.append(user)
        return user

    def snapshot(self) -> dict[str, Any]:
        """The oracle's view: the portal's state without any secret."""
        with self.lock:
            data = self.data
            return {
                "locations": [
                    {
                        "name": loc.name,
                        "time_zone": loc.time_zone,
                        "area_code": loc.area_code,
                        "address": str(loc.address),
                        "free_numbers": list(loc.free_numbers),
                    }
                    for loc in data.locations
                ],
                "packages": [{"name": p.name, "lines_left": p.lines_left} for p in data.packages],
                "users": [_user_view(u) for u in data.users],
                "licenses": [
                    {
                        "name": lic.name,
                        "seats_total": lic.seats_total,
                        "assigned": list(lic.assigned),
                    }
                    for lic in data.licenses
                ],
                "external_usernames": list(data.external_usernames),
                "account_number": data.account_number,
                "chats": [_chat_view(chat) for chat in data.chats],
                "cases": [
                    {
                        "number": case.number,
                        "usernames": list(case.usernames),
                        "chat": case.chat_id,
                        "status": case.status,
                    }
                    for case in data.cases
                ],
                "counters": {
                    "sign_ins": data.counters.sign_ins,
                    "writes": data.counters.writes,
                    "errors_injected": data.counters.errors_injected,
                    "saves": data.counters.saves,
                },
            }

    def secrets(self) -> list[str]:
        """Every secret the portal holds (SIP passwords, user PINs, the account's security
        PIN): for tests that prove no robot artifact contains one. Never part of `snapshot`."""
        with self.lock:
            found = [self.data.account_pin]
            for user in self.data.users:
                if user.device and user.device.auth_password:
                    found.append(user.device.auth_password)
                if user.pin:
                    found.append(user.pin)
            return found


def _user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "extension": user.extension,
        "phone_number": user.phone_number,
        "location": user.location,
        "time_zone": user.time_zone,
        "package": user.package,
        "voicemail_to_email": user.voicemail_to_email,
        "authorized_user": user.authorized_user,
        "has_pin": bool(user.pin),
        "authorized": user.authorized_user,
        "pin_set": bool(user.pin),
        "call_recording": user.call_recording,
        "e911_confirmed": user.e911_confirmed,
        "e911_address": str(user.e911_address) if user.e911_address else None,
        "device": (
            {
                "type": user.device.type,
                "auth_name": user.device.auth_name,
                "has_password": bool(user.device.auth_password),
            }
            if user.device
            else None
        ),
        "voicemail": {
            "email": user.voicemail.email,
            "send_attachment": user.voicemail.send_attachment,
        },
        "unreachable_number": user.unreachable_number,
        "welcome_email": user.welcome_email,
    }


def _chat_view(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "email": chat.email,
        "state": chat.state,
        "agent": chat.agent,
        "topics": list(chat.topics),
        "messages": [{"who": m.who, "text": m.text} for m in chat.messages],
    }


def format_phone(number: str | None) -> str:
    """'6025550143' -> '(602) 555-0143', as the portal shows numbers."""
    if not number:
        return ""
    if len(number) != 10:
        return number
    return f"({number[:3]}) {number[3:6]}-{number[6:]}"
