"""The account the Xima mock starts with: five departments, three sites, four emergency
addresses, 39 numbers in three area codes (three free in each) and 30 users.

Extensions run in ranges by department (Operations 1xx, Sales 2xx, Support 3xx,
Engineering 4xx, Finance 5xx), as the help article recommends. Seeded passwords and
voicemail PINs are random per instance, so a leak test cannot pass by knowing them.
"""

from __future__ import annotations

import secrets

from mock_portal.xima.store import AccountData, Address, User

DEPARTMENTS = ["Operations", "Sales", "Support", "Engineering", "Finance"]
HQ, DENVER, PHOENIX = "Salt Lake City HQ", "Denver Office", "Phoenix Office"
SITES = [HQ, DENVER, PHOENIX]

# Each site's area code, its first number, how many numbers the account has there, and
# its emergency address.
_SITE_NUMBERS = {HQ: ("801", 100, 18, 1), DENVER: ("720", 200, 12, 2), PHOENIX: ("602", 300, 9, 3)}

# first, last, extension, department, site, scope
_PEOPLE: list[tuple[str, str, str, str, str, str]] = [
    ("Lobby", "Phone", "100", "Operations", HQ, "Basic User"),
    ("Maria", "Lopez", "101", "Operations", HQ, "Office Manager"),
    ("Dana", "Smith", "201", "Sales", HQ, "Basic User"),
    ("Jordan", "Lee", "202", "Sales", HQ, "Basic User"),
    ("Priya", "Patel", "203", "Sales", DENVER, "Basic User"),
    ("Marcus", "Brown", "204", "Sales", HQ, "Basic User"),
    ("Emily", "Chen", "205", "Sales", PHOENIX, "Basic User"),
    ("Carlos", "Rivera", "206", "Sales", DENVER, "Basic User"),
    ("Hannah", "Kim", "207", "Sales", HQ, "Basic User"),
    ("Omar", "Haddad", "208", "Sales", PHOENIX, "Basic User"),
    ("Grace", "Nguyen", "301", "Support", HQ, "Site Manager"),
    ("Liam", "O'Brien", "302", "Support", HQ, "Basic User"),
    ("Sofia", "Rossi", "303", "Support", DENVER, "Basic User"),
    ("Noah", "Williams", "304", "Support", DENVER, "Basic User"),
    ("Ava", "Johnson", "305", "Support", PHOENIX, "Basic User"),
    ("Ethan", "Davis", "306", "Support", HQ, "Basic User"),
    ("Chloe", "Martin", "307", "Support", PHOENIX, "Basic User"),
    ("Benjamin", "Clark", "401", "Engineering", HQ, "Basic User"),
    ("Isabella", "Wright", "402", "Engineering", DENVER, "Site Manager"),
    ("Lucas", "Green", "403", "Engineering", HQ, "Basic User"),
    ("Mia", "Scott", "404", "Engineering", DENVER, "Basic User"),
    ("Henry", "Adams", "405", "Engineering", HQ, "Basic User"),
    ("Zoe", "Baker", "406", "Engineering", PHOENIX, "Basic User"),
    ("Daniel", "Hall", "407", "Engineering", HQ, "Basic User"),
    ("Ryan", "Cooper", "408", "Engineering", DENVER, "Basic User"),
    ("Olivia", "Turner", "501", "Finance", HQ, "Basic User"),
    ("James", "Parker", "502", "Finance", DENVER, "Basic User"),
    ("Amelia", "Evans", "503", "Finance", PHOENIX, "Site Manager"),
    ("Samuel", "Collins", "504", "Finance", DENVER, "Basic User"),
    ("Ella", "Morris", "505", "Finance", HQ, "Basic User"),
]


def _addresses() -> list[Address]:
    return [
        Address(1, "3300 N Triumph Blvd", "Lehi", "UT", "84043"),
        Address(2, "1801 California St", "Denver", "CO", "80202"),
        Address(3, "2 N Central Ave", "Phoenix", "AZ", "85004"),
        Address(4, "175 S Main St", "Salt Lake City", "UT", "84111"),
    ]


def _numbers() -> dict[str, list[str]]:
    return {
        site: [f"{code}555{n:04d}" for n in range(first, first + count)]
        for site, (code, first, count, _) in _SITE_NUMBERS.items()
    }


def _email(first: str, last: str) -> str:
    if (first, last) == ("Lobby", "Phone"):
        return "lobby@example.com"
    local = f"{first}.{last}".lower().replace("'", "")
    return f"{local}@example.com"


def _pin() -> str:
    # Eight digits: long enough that a leak test never finds one by accident in a timestamp.
    return "".join(str(secrets.randbelow(10)) for _ in range(8))


def seed_data() -> AccountData:
    """A fresh copy of the account as it stands before any robot run."""
    pools = _numbers()
    taken = {site: 0 for site in SITES}
    users = []
    for index, (first, last, extension, department, site, scope) in enumerate(_PEOPLE, start=1):
        number = pools[site][taken[site]]
        taken[site] += 1
        person = (first, last) != ("Lobby", "Phone")
        users.append(
            User(
                id=index,
                first_name=first,
                last_name=last,
                email=_email(first, last),
                extension=extension,
                department=department,
                site=site,
                emergency_address=_SITE_NUMBERS[site][3],
                scope=scope,
                caller_id=number,
                emergency_caller_id=number,
                voicemail=person,
                phone_extension=True,
                password=secrets.token_urlsafe(12) if person and index % 3 == 0 else None,
                voicemail_pin=_pin() if person and index % 4 == 0 else None,
            )
        )
    return AccountData(
        departments=list(DEPARTMENTS),
        sites=list(SITES),
        addresses=_addresses(),
        numbers=[n for pool in pools.values() for n in pool],
        users=users,
        next_user_id=len(users) + 1,
        next_address_id=len(_addresses()) + 1,
    )
