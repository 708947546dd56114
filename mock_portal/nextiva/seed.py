"""The account the mock portal starts with: three sites, their number pools, and ~15 users.

Free numbers end in 0100-0159 (Phoenix), 0200-0259 (Denver) and 0300-0359 (Austin), and
existing users' extensions are 10xx, so the extension a new user gets from a number's last
four digits never collides with one already in use.
"""

from __future__ import annotations

from mock_portal.nextiva.store import (
    Address,
    Device,
    License,
    Location,
    Package,
    PortalData,
    User,
    Voicemail,
)

POOL_SIZE = 60
PRO_PLUS = "NextOS Pro Plus Upgrade"
CALL_RECORDING = "NextOS Call Recording"

TIME_ZONES: dict[str, str] = {
    "America/New_York": "(GMT-05:00) Eastern Time",
    "America/Chicago": "(GMT-06:00) Central Time",
    "America/Denver": "(GMT-07:00) Mountain Time",
    "America/Phoenix": "(GMT-07:00) Arizona",
    "America/Los_Angeles": "(GMT-08:00) Pacific Time",
}

DEVICE_MODELS = (
    "Generic SIP Phone",
    "Poly VVX 250",
    "Poly VVX 450",
    "Yealink T54W",
    "Cisco 6851",
)


def _pool(area_code: str, first: int) -> list[str]:
    return [f"{area_code}555{n:04d}" for n in range(first, first + POOL_SIZE)]


def _locations() -> list[Location]:
    return [
        Location(
            "Phoenix HQ",
            "America/Phoenix",
            "602",
            Address("2 N Central Ave", "Phoenix", "AZ", "85004"),
            _pool("602", 100),
        ),
        Location(
            "Denver Office",
            "America/Denver",
            "303",
            Address("1600 Broadway", "Denver", "CO", "80202"),
            _pool("303", 200),
        ),
        Location(
            "Austin Office",
            "America/Chicago",
            "512",
            Address("500 W 2nd St", "Austin", "TX", "78701"),
            _pool("512", 300),
        ),
    ]


# (first, last, username, extension, location, phone?, device, voicemail email on, e911 ok)
_PEOPLE: list[tuple[str, str, str, str, str, bool, str | None, bool, bool]] = [
    ("Dana", "Smith", "dana.smith", "1001", "Phoenix HQ", True, "Generic SIP Phone", True, True),
    (
        "Conference",
        "Room",
        "conference.room",
        "1002",
        "Phoenix HQ",
        True,
        "Poly VVX 450",
        False,
        True,
    ),
    ("Front", "Desk", "front.desk", "1003", "Phoenix HQ", False, "Yealink T54W", False, True),
    (
        "Miguel",
        "Alvarez",
        "miguel.alvarez",
        "1004",
        "Denver Office",
        True,
        "Generic SIP Phone",
        True,
        True,
    ),
    ("Priya", "Patel", "priya.patel", "1005", "Austin Office", True, "Poly VVX 250", True, True),
    ("Jordan", "Lee", "jordan.lee", "1006", "Phoenix HQ", True, "Generic SIP Phone", True, True),
    ("Grace", "Kim", "grace.kim", "1007", "Denver Office", True, None, True, True),
    ("Tomás", "Ortega", "tomas.ortega", "1008", "Austin Office", True, "Cisco 6851", True, True),
    (
        "Hannah",
        "Becker",
        "hannah.becker",
        "1009",
        "Phoenix HQ",
        True,
        "Generic SIP Phone",
        False,
        True,
    ),
    (
        "Omar",
        "Haddad",
        "omar.haddad",
        "1010",
        "Denver Office",
        True,
        "Generic SIP Phone",
        True,
        True,
    ),
    ("Lucy", "Chen", "lucy.chen", "1011", "Austin Office", True, "Poly VVX 450", True, True),
    (
        "Ethan",
        "Brooks",
        "ethan.brooks",
        "1012",
        "Phoenix HQ",
        True,
        "Generic SIP Phone",
        True,
        True,
    ),
    ("Sofia", "Rossi", "sofia.rossi", "1013", "Denver Office", True, None, False, True),
    ("Ben", "Carter", "ben.carter", "1014", "Austin Office", True, "Generic SIP Phone", True, True),
    # A namesake, so that finding "Dana Smith" by search alone is not enough.
    (
        "Dana",
        "Smithers",
        "dana.smithers",
        "1015",
        "Austin Office",
        True,
        "Generic SIP Phone",
        True,
        True,
    ),
    # Half onboarded: created but E911 never confirmed.
    ("Ava", "Nguyen", "ava.nguyen", "1016", "Phoenix HQ", True, None, False, False),
]


def seed_data() -> PortalData:
    """A fresh copy of the seed account."""
    locations = _locations()
    by_name = {loc.name: loc for loc in locations}
    users: list[User] = []
    for index, (first, last, username, ext, site, has_phone, device, vm_on, e911) in enumerate(
        _PEOPLE, start=1
    ):
        location = by_name[site]
        email = f"{username}@example.com"
        users.append(
            User(
                id=index,
                username=username,
                first_name=first,
                last_name=last,
                email=email,
                extension=ext,
                phone_number=f"{location.area_code}555{ext}" if has_phone else None,
                location=site,
                time_zone=location.time_zone,
                package="NextOSAdditionalLineLocal",
                voicemail_to_email=vm_on,
                e911_confirmed=e911,
                e911_address=location.address if e911 else None,
                device=Device(device, username, f"seed-sip-{index:02d}-x9") if device else None,
                voicemail=Voicemail(email if vm_on else "", vm_on),
            )
        )
    usernames = [u.username for u in users]
    return PortalData(
        locations=locations,
        packages=[
            Package("NextOSAdditionalLineLocal", 60),
            Package("NextOSAdditionalLineTollFree", 2),
        ],
        users=users,
        licenses=[
            License(
                PRO_PLUS,
                60,
                ["dana.smith", "miguel.alvarez", "priya.patel", "jordan.lee", "grace.kim"],
            ),
            License(CALL_RECORDING, 10, usernames[3:13]),
            License("NextOS Voice Essential", 25, []),
        ],
        external_usernames=["sam.taylor"],
        next_user_id=len(users) + 1,
    )
