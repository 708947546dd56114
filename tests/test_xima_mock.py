"""The Xima UCaaS mock portal: its screens, rules, faults, sessions and oracle.

Mostly through Flask's test client; one browser walk drives Add, Edit and Delete by role
and accessible name only, with the mock under the same PortalServer the robot uses.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from werkzeug.test import TestResponse

from mock_portal.server import PortalServer
from mock_portal.xima import XimaConfig, create_app
from mock_portal.xima.sessions import ANONYMOUS_CAP, TrackedSessionInterface

ADMIN = "admin@example.com"
PASSWORD = "xima-admin-password"
EXPIRED = "Your session has expired."
WENT_WRONG = "Something went wrong. Please try again."
HQ, DENVER = "Salt Lake City HQ", "Denver Office"
# Seeded numbers: 801555 0100-0114 are held, 0115-0117 free; 720555 0200-0208 held.
FREE_801 = "8015550115"
HELD_801 = "8015550100"


def _token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page carries no CSRF token"
    return found.group(1)


class _RoleText(HTMLParser):
    """Collects the text inside elements of one role."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "br", "meta", "link"):
            return
        if self.depth or ("role", self.role) in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _text_of(html: str, role: str) -> str:
    """The text of every element of `role` on a page, whitespace collapsed."""
    parser = _RoleText(role)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _beside(html: str, field: str) -> str | None:
    """The error shown beside a form field, if any."""
    found = re.search(rf'id="xm-{field}-error">([^<]*)<', html)
    return unescape(found.group(1)) if found else None


def _rows(html: str) -> list[str]:
    """The names in the Users table, in order."""
    return [unescape(n) for n in re.findall(r'<td class="xm-name"[^>]*>([^<]*)</td>', html)]


class Admin:
    """A signed-in admin driving the portal through Flask's test client."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.csrf = ""

    def sign_in(self, password: str = PASSWORD, email: str = ADMIN) -> TestResponse:
        self.csrf = _token(self.client.get("/").text)
        page = self.client.post(
            "/",
            data={"csrf_token": self.csrf, "email": email, "password": password},
            follow_redirects=True,
        )
        if "<h1>Users</h1>" in page.text:
            # Signing in starts a fresh session, and with it a fresh form token.
            self.csrf = _token(page.text)
        return page

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
        return self.client.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)

    def add(self, **overrides: str | None) -> TestResponse:
        return self.post("/users/new", user_form(**overrides))

    def edit(self, user_id: int, **overrides: str | None) -> TestResponse:
        return self.post(f"/users/{user_id}/edit", edit_form(self.app, user_id, **overrides))

    def save_address(self, **fields: str) -> TestResponse:
        return self.client.post(
            "/api/addresses",
            data=fields,
            headers={"X-CSRFToken": self.csrf, "X-Requested-With": "fetch"},
        )


def user_form(**overrides: str | None) -> dict[str, str]:
    """An Add User form that passes every rule; None leaves a field out (an unticked box)."""
    form: dict[str, str | None] = {
        "first_name": "Nora",
        "last_name": "Quinn",
        "extension": "209",
        "department": "Sales",
        "site": HQ,
        "email": "nora.quinn@example.com",
        "emergency_address": "1",
        "scope": "Basic User",
        "area_code": "801",
        "caller_id": FREE_801,
        "emergency_caller_id": FREE_801,
        "voicemail": "on",
        "phone_extension": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def edit_form(app: Flask, user_id: int, **overrides: str | None) -> dict[str, str]:
    """The Edit User form as the screen fills it in, with `overrides`."""
    user = user_by_id(app, user_id)
    assert user is not None
    address = next(a for a in state(app)["addresses"] if a["label"] == user["emergency_address"])
    form: dict[str, str | None] = {
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "extension": user["extension"],
        "department": user["department"],
        "site": user["site"],
        "email": user["email"],
        "emergency_address": str(address["id"]),
        "scope": user["scope"],
        "area_code": user["caller_id"][:3],
        "caller_id": user["caller_id"],
        "emergency_caller_id": user["emergency_caller_id"],
        "voicemail": "on" if user["voicemail"] else None,
        "phone_extension": "on" if user["phone_extension"] else None,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def state(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/__mock__/state").get_json()


def secrets_of(app: Flask) -> list[str]:
    return app.test_client().get("/__mock__/secrets").get_json()["secrets"]


def user_by_email(app: Flask, email: str) -> dict[str, Any] | None:
    return next((u for u in state(app)["users"] if u["email"] == email), None)


def user_by_id(app: Flask, user_id: int) -> dict[str, Any] | None:
    return next((u for u in state(app)["users"] if u["id"] == user_id), None)


def faults(app: Flask, profile: str = "none", **overrides: Any) -> None:
    response = app.test_client().post("/__mock__/faults", json={"profile": profile, **overrides})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def app() -> Flask:
    return create_app(XimaConfig(admin_email=ADMIN, admin_password=PASSWORD))


@pytest.fixture
def admin(app: Flask) -> Admin:
    handle = Admin(app)
    assert "<h1>Users</h1>" in handle.sign_in().text
    return handle


# ---------- signing in and sessions ----------


def test_signed_out_visitor_reaches_only_sign_in(app: Flask) -> None:
    """Every screen but Sign In sends a signed-out visitor to it; background calls get 401."""
    client = app.test_client()
    for path in ("/users", "/users/new", "/users/1/edit", "/sites", "/reports", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == "/", path
    assert client.get("/api/numbers?area_code=801").status_code == 401
    page = client.get("/").text
    assert 'for="xm-email">Email<' in page and 'for="xm-password">Password<' in page
    assert ">Sign In</button>" in page


def test_wrong_credentials_are_refused_with_an_alert(app: Flask) -> None:
    """A wrong password or email shows the alert and signs nobody in."""
    for email, password in ((ADMIN, PASSWORD + "x"), ("someone@example.com", PASSWORD)):
        admin = Admin(app)
        page = admin.sign_in(password=password, email=email)
        assert page.status_code == 401
        assert _text_of(page.text, "alert") == "Invalid email or password."
        assert PASSWORD not in page.text
        assert admin.client.get("/users").status_code == 302
    assert state(app)["counters"]["sign_ins"] == 0


def test_signing_in_opens_users_with_the_top_menu(admin: Admin) -> None:
    """After Sign In the Users screen shows, under a navigation landmark with four entries."""
    page = admin.client.get("/users").text
    nav = re.search(r'<nav aria-label="Main menu".*?</nav>', page, re.S)
    assert nav is not None
    links = re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(0))
    assert links == ["Users", "Sites", "Departments", "Reports"]
    for path, heading in (
        ("/sites", "Sites"),
        ("/departments", "Departments"),
        ("/reports", "Reports"),
    ):
        assert f"<h1>{heading}</h1>" in admin.client.get(path).text


def test_idle_session_expires_to_sign_in_and_drops_the_write(
    admin: Admin, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save after the idle limit lands on Sign In with the expiry alert; nothing is added."""
    later = time.monotonic() + 901
    monkeypatch.setattr(time, "monotonic", lambda: later)
    response = admin.add()
    assert response.status_code == 302 and response.location == "/"
    page = admin.client.get("/").text
    assert _text_of(page, "alert") == EXPIRED
    assert user_by_email(app, "nora.quinn@example.com") is None
    assert state(app)["counters"]["active_sessions"] == {}


def test_session_expires_after_the_fault_profiles_request_budget(admin: Admin, app: Flask) -> None:
    """With session_max_requests set, the request past it lands on Sign In; fetch() gets 401."""
    # Signing in already spent one request: the Users screen it was sent on to.
    faults(app, session_max_requests=3)
    assert admin.client.get("/users").status_code == 200
    assert admin.client.get("/users").status_code == 200
    expired = admin.client.get("/api/numbers?area_code=801", headers={"Accept": "application/json"})
    assert expired.status_code == 401 and expired.get_json()["error"] == EXPIRED
    assert _text_of(admin.client.get("/").text, "alert") == EXPIRED


def test_sessions_are_counted_per_admin_with_their_peak(app: Flask) -> None:
    """Two sign-ins make two active sessions; signing one out leaves one and the peak at two."""
    first, second = Admin(app), Admin(app)
    first.sign_in()
    second.sign_in()
    counters = state(app)["counters"]
    assert counters["active_sessions"] == {ADMIN: 2}
    assert counters["peak_sessions"] == {ADMIN: 2}
    assert counters["sign_ins"] == 2
    first.post("/sign-out", {})
    counters = state(app)["counters"]
    assert counters["active_sessions"] == {ADMIN: 1} and counters["peak_sessions"] == {ADMIN: 2}


def test_an_old_session_cookie_opens_nothing_after_sign_out(admin: Admin) -> None:
    """Signing out forgets the session: its cookie, replayed, no longer opens Users."""
    cookie = admin.client.get_cookie("xima_session")
    assert cookie is not None
    admin.post("/sign-out", {})
    replay = admin.app.test_client()
    replay.set_cookie("xima_session", cookie.value)
    assert replay.get("/users").status_code == 302


def test_a_flood_of_visitors_neither_grows_the_table_nor_signs_the_admin_out(
    admin: Admin, app: Flask
) -> None:
    """Anonymous sessions are capped apart from signed-in ones: the admin stays signed in."""
    for _ in range(ANONYMOUS_CAP + 20):
        app.test_client().get("/")
    table = app.session_interface
    assert isinstance(table, TrackedSessionInterface)
    assert table.stored() == ANONYMOUS_CAP + 1
    assert admin.client.get("/users").status_code == 200


# ---------- Users ----------


def test_users_shows_25_rows_a_page_with_previous_and_next(admin: Admin) -> None:
    """Thirty seeded users make two pages: 25 rows, then 5; the buttons are disabled at the ends."""
    first = admin.client.get("/users").text
    second = admin.client.get("/users?page=2").text
    assert len(_rows(first)) == 25 and len(_rows(second)) == 5
    assert set(_rows(first)).isdisjoint(_rows(second))
    assert re.search(r'value="0" class="xm-button" disabled>Previous<', first)
    assert re.search(r'value="2" class="xm-button">Next<', first)
    assert re.search(r'value="3" class="xm-button" disabled>Next<', second)
    assert "Lobby Phone" in _rows(first) + _rows(second)


def test_users_table_has_the_contracts_headers_and_icon_buttons(admin: Admin) -> None:
    """Headers are normal-case text; every row has an Edit and a Delete named by aria-label."""
    page = admin.client.get("/users").text
    headers = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert headers == ["Name", "Extension", "Email", "Department", "Site", "Scope"]
    assert page.count('role="button" aria-label="Edit"') == 25
    assert page.count('role="button" aria-label="Delete"') == 25
    assert re.search(r'role="button" href="/users/new">Add User</a>', page)


def test_search_filters_on_the_server(admin: Admin) -> None:
    """Search matches name, email, extension, department and site; fetch() gets the table only."""
    sales = admin.client.get("/users?q=sales").text
    assert len(_rows(sales)) == 8
    assert _rows(admin.client.get("/users?q=lobby").text) == ["Lobby Phone"]
    assert _rows(admin.client.get("/users?q=204").text) == ["Marcus Brown"]
    assert _rows(admin.client.get("/users?q=denver+support").text) == [
        "Sofia Rossi",
        "Noah Williams",
    ]
    fragment = admin.client.get("/users?q=zzz", headers={"X-Requested-With": "fetch"}).text
    assert "<html" not in fragment and "No users found" in fragment


# ---------- Add User ----------


def test_add_user_form_has_every_field_with_defaults(admin: Admin) -> None:
    """Add User opens with its fields; voicemail and phone extension ticked, Basic User chosen."""
    page = admin.client.get("/users/new").text
    assert "<h1>Add User</h1>" in page
    for label in (
        "First Name", "Last Name", "Extension", "Email Address", "Street", "City", "State",
        "ZIP Code", "New Password", "Confirm Password", "Voicemail Pin", "Enable Voicemail",
        "Add Phone Extension",
    ):  # fmt: skip
        assert f">{label}</label>" in page, label
    for label in ("Site", "Emergency Address", "Caller ID"):
        assert f'class="xm-label" id="xm-{label.lower().replace(" ", "_")}-label">{label}<' in page
    for name in ("department", "area_code", "emergency_caller_id"):
        assert f'<select id="xm-{name}"' in page
    assert 'name="voicemail" type="checkbox" checked' in page
    assert 'name="phone_extension" type="checkbox" checked' in page
    assert 'value="Basic User" checked' in page
    assert ">User's Scope</legend>" in page
    for button in ("Add Address", "Save Address", "Add User"):
        assert f">{button}</button>" in page


def test_add_user_through_the_form_sets_every_field(admin: Admin, app: Flask) -> None:
    """A valid Add User lands on Users with the status, and the oracle holds every field."""
    response = admin.add(
        voicemail=None, new_password="sunny-day-42", confirm_password="sunny-day-42",
        voicemail_pin="2468013", scope="Site Manager", emergency_caller_id="8015550116",
    )  # fmt: skip
    assert response.status_code == 302 and response.location == "/users"
    page = admin.client.get("/users?q=nora").text
    assert _text_of(page, "status") == "User added."
    assert _rows(page) == ["Nora Quinn"]
    user = user_by_email(app, "nora.quinn@example.com")
    assert user is not None
    assert {k: v for k, v in user.items() if k != "id"} == {
        "first_name": "Nora",
        "last_name": "Quinn",
        "email": "nora.quinn@example.com",
        "extension": "209",
        "department": "Sales",
        "site": HQ,
        "emergency_address": "3300 N Triumph Blvd, Lehi, UT 84043",
        "scope": "Site Manager",
        "caller_id": FREE_801,
        "emergency_caller_id": "8015550116",
        "voicemail": False,
        "phone_extension": True,
        "password_set": True,
        "voicemail_pin_set": True,
    }
    assert {"sunny-day-42", "2468013"} <= set(secrets_of(app))
    counters = state(app)["counters"]
    assert counters["users_added"] == 1 and counters["writes"] == 1


def test_add_user_without_the_forms_token_is_refused(admin: Admin, app: Flask) -> None:
    """A post without the CSRF token gets 400 with an alert, and no user appears."""
    response = admin.client.post("/users/new", data=user_form())
    assert response.status_code == 400 and _text_of(response.text, "alert")
    assert user_by_email(app, "nora.quinn@example.com") is None


RULES = [
    ({"first_name": ""}, "first_name", "First Name is required."),
    ({"first_name": "x" * 51}, "first_name", "First Name must be 50 characters or fewer."),
    ({"last_name": ""}, "last_name", "Last Name is required."),
    ({"last_name": "y" * 51}, "last_name", "Last Name must be 50 characters or fewer."),
    ({"extension": "12"}, "extension", "Extension must be 3 to 6 digits."),
    ({"extension": "1234567"}, "extension", "Extension must be 3 to 6 digits."),
    ({"extension": "20a"}, "extension", "Extension must be 3 to 6 digits."),
    ({"extension": "204"}, "extension", "Extension 204 is already in use."),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"email": "Dana.Smith@Example.com"}, "email", "A user with this email already exists."),
    (
        {"new_password": "short7!", "confirm_password": "short7!"},
        "new_password",
        "Password must be at least 8 characters.",
    ),
    (
        {"new_password": "long-enough-1", "confirm_password": "long-enough-2"},
        "confirm_password",
        "Passwords do not match.",
    ),
    ({"confirm_password": "long-enough-1"}, "confirm_password", "Passwords do not match."),
    ({"voicemail_pin": "123"}, "voicemail_pin", "Voicemail Pin must be 4 to 10 digits."),
    ({"voicemail_pin": "12345678901"}, "voicemail_pin", "Voicemail Pin must be 4 to 10 digits."),
    ({"voicemail_pin": "12ab"}, "voicemail_pin", "Voicemail Pin must be 4 to 10 digits."),
    ({"department": "Marketing"}, "department", "Choose a department from the list."),
    ({"site": "Boston Office"}, "site", "Choose a site from the list."),
    (
        {"emergency_address": "99"},
        "emergency_address",
        "Choose an emergency address from the list.",
    ),
    ({"scope": "Root"}, "scope", "Choose Basic User, Site Manager or Office Manager."),
    ({"area_code": "212"}, "area_code", "Choose an area code from the list."),
    ({"caller_id": "2125550100"}, "caller_id", "Choose a Caller ID from the list."),
    ({"caller_id": "7205550210"}, "caller_id", "Caller ID must be a number in area code 801."),
    ({"caller_id": HELD_801}, "caller_id", "(801) 555-0100 is already used by another user."),
    (
        {"emergency_caller_id": HELD_801},
        "emergency_caller_id",
        "(801) 555-0100 is already used by another user.",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), RULES)
def test_add_user_refuses_each_rule_beside_the_field_and_in_an_alert(
    admin: Admin, app: Flask, overrides: dict[str, str], field: str, message: str
) -> None:
    """Each broken rule is refused with its message beside the field and in the alert."""
    before = state(app)
    response = admin.add(**overrides)
    assert response.status_code == 400
    assert _beside(response.text, field) == message
    assert message in _text_of(response.text, "alert")
    assert "<h1>Add User</h1>" in response.text
    after = state(app)
    assert after["users"] == before["users"] and after["counters"]["saves"] == 0


def test_a_refused_form_keeps_its_values_but_never_its_secrets(admin: Admin) -> None:
    """After a refusal the typed values come back; passwords and the PIN do not."""
    response = admin.add(extension="204", new_password="kept-secret-9",
                         confirm_password="kept-secret-9", voicemail_pin="97531")  # fmt: skip
    assert 'value="Nora"' in response.text and 'value="nora.quinn@example.com"' in response.text
    assert "kept-secret-9" not in response.text and "97531" not in response.text


def test_area_code_limits_the_numbers_to_free_ones(admin: Admin) -> None:
    """The numbers call lists the area code's free numbers (and the edited user's own)."""
    answer = admin.client.get("/api/numbers?area_code=801").get_json()
    assert [n["value"] for n in answer["numbers"]] == ["8015550115", "8015550116", "8015550117"]
    assert answer["numbers"][0]["label"] == "(801) 555-0115"
    own = admin.client.get("/api/numbers?area_code=801&user=3").get_json()["numbers"]
    assert own[0]["value"] == "8015550102"
    assert admin.client.get("/api/numbers?area_code=212").status_code == 404


def test_a_number_taken_by_a_new_user_is_no_longer_offered(admin: Admin) -> None:
    """Once a user holds a number, the list leaves it out and a second user cannot take it."""
    admin.add()
    numbers = admin.client.get("/api/numbers?area_code=801").get_json()["numbers"]
    assert FREE_801 not in [n["value"] for n in numbers]
    second = admin.add(first_name="Otto", email="otto@example.com", extension="210")
    assert _beside(second.text, "caller_id") == "(801) 555-0115 is already used by another user."


# ---------- Add Address ----------


def test_save_address_adds_it_to_the_account_once(admin: Admin, app: Flask) -> None:
    """Save Address adds the address and answers its id; the same address again is not doubled."""
    fields = {"street": "500 Elm St", "city": "Provo", "state": "ut", "zip_code": "84601"}
    answer = admin.save_address(**fields).get_json()
    assert (
        answer["label"] == "500 Elm St, Provo, UT 84601" and answer["message"] == "Address saved."
    )
    again = admin.save_address(**{**fields, "street": "500  elm st"}).get_json()
    assert again["id"] == answer["id"]
    labels = [a["label"] for a in state(app)["addresses"]]
    assert labels.count("500 Elm St, Provo, UT 84601") == 1
    assert state(app)["counters"]["addresses_added"] == 1
    admin.add(emergency_address=answer["id"])
    user = user_by_email(app, "nora.quinn@example.com")
    assert user is not None and user["emergency_address"] == "500 Elm St, Provo, UT 84601"


def test_save_address_refuses_bad_fields_and_forged_calls(admin: Admin, app: Flask) -> None:
    """Missing parts and a bad ZIP are refused by field; a call without the token does nothing."""
    refused = admin.save_address(street="", city="Provo", state="Utah", zip_code="8460")
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {
        "street": "Street is required.",
        "state": "State must be a 2-letter code.",
        "zip_code": "ZIP Code must be 5 digits.",
    }
    forged = admin.client.post(
        "/api/addresses",
        data={"street": "1 A St", "city": "B", "state": "UT", "zip_code": "84000"},
        headers={"X-Requested-With": "fetch"},
    )
    assert forged.status_code == 400
    assert len(state(app)["addresses"]) == 4


# ---------- Edit User ----------


def test_edit_user_shows_the_fields_filled_in_and_secrets_blank(admin: Admin, app: Flask) -> None:
    """Edit User is filled in with the user's values; passwords and the PIN stay blank."""
    page = admin.client.get("/users/12/edit").text
    user = user_by_id(app, 12)
    assert user is not None and user["password_set"] and user["voicemail_pin_set"]
    assert "<h1>Edit User</h1>" in page and ">Save</button>" in page
    assert f'value="{user["email"]}"' in page and f'value="{user["extension"]}"' in page
    assert f'<option value="{user["department"]}" selected>' in page
    for name in ("new_password", "confirm_password", "voicemail_pin"):
        assert re.search(rf'name="{name}" type="password" value=""', page), name
    for secret in secrets_of(app):
        assert secret not in page


def test_blank_passwords_and_pin_keep_them_on_edit(admin: Admin, app: Flask) -> None:
    """Saving Edit User with blank secrets keeps them; a new password replaces only the password."""
    before = secrets_of(app)
    response = admin.edit(12, scope="Office Manager")
    assert response.status_code == 302
    assert _text_of(admin.client.get("/users").text, "status") == "User updated."
    user = user_by_id(app, 12)
    assert user is not None and user["scope"] == "Office Manager"
    assert user["password_set"] and user["voicemail_pin_set"]
    assert secrets_of(app) == before
    admin.edit(12, new_password="brand-new-pass", confirm_password="brand-new-pass")
    after = secrets_of(app)
    assert "brand-new-pass" in after and len(after) == len(before)


def test_edit_keeps_the_users_own_extension_email_and_numbers(admin: Admin, app: Flask) -> None:
    """The user's own extension, email and numbers are no collision; a same save writes nothing."""
    response = admin.edit(3)
    assert response.status_code == 302
    counters = state(app)["counters"]
    assert counters["saves"] == 1 and counters["users_updated"] == 0 and counters["writes"] == 0
    taken = admin.edit(3, extension="204", email="grace.nguyen@example.com")
    assert _beside(taken.text, "extension") == "Extension 204 is already in use."
    assert _beside(taken.text, "email") == "A user with this email already exists."
    assert "<h1>Edit User</h1>" in taken.text


# ---------- Delete ----------


def test_delete_asks_in_a_dialog_then_deletes(admin: Admin, app: Flask) -> None:
    """The X opens a dialog naming the user; Delete removes them and frees their number."""
    page = admin.client.get("/users/6/delete").text
    dialog = re.search(r"<dialog[^>]*open>.*?</dialog>", page, re.S)
    assert dialog is not None and 'aria-labelledby="xm-delete-title"' in dialog.group(0)
    assert '<h2 id="xm-delete-title">Delete Marcus Brown?</h2>' in dialog.group(0)
    assert ">Delete</button>" in dialog.group(0) and ">Cancel</a>" in dialog.group(0)
    assert user_by_id(app, 6) is not None  # asking deletes nothing
    response = admin.post("/users/6/delete", {})
    assert response.status_code == 302
    assert _text_of(admin.client.get("/users").text, "status") == "User deleted."
    assert user_by_id(app, 6) is None
    assert state(app)["counters"]["users_deleted"] == 1
    numbers = admin.client.get("/api/numbers?area_code=801").get_json()["numbers"]
    assert "8015550104" in [n["value"] for n in numbers]
    again = admin.post("/users/6/delete", {})
    assert again.status_code == 404 and _text_of(again.text, "alert") == "User not found."


# ---------- faults ----------


def test_a_write_failing_after_it_applied_answers_500_yet_holds(admin: Admin, app: Flask) -> None:
    """With every write failing after applying, Add User answers an error but the user exists."""
    faults(app, write_failure_rate=1.0, failure_after_apply_ratio=1.0)
    response = admin.add()
    assert response.status_code == 500 and _text_of(response.text, "alert") == WENT_WRONG
    assert user_by_email(app, "nora.quinn@example.com") is not None
    assert state(app)["counters"]["errors_injected"] == 1


def test_a_write_failing_before_it_applied_changes_nothing(admin: Admin, app: Flask) -> None:
    """With every write failing before applying, Add User and Delete change nothing."""
    faults(app, write_failure_rate=1.0, failure_after_apply_ratio=0.0)
    assert admin.add().status_code == 500
    assert admin.post("/users/6/delete", {}).status_code == 500
    assert user_by_email(app, "nora.quinn@example.com") is None and user_by_id(app, 6) is not None
    assert state(app)["counters"]["writes"] == 0


def test_the_banner_profile_shows_a_dismissible_banner(admin: Admin, app: Flask) -> None:
    """The flaky profile shows a maintenance banner with a Dismiss button on every screen."""
    assert "data-banner" not in admin.client.get("/users").text
    faults(app, "flaky", session_max_requests=0, write_failure_rate=0.0)
    page = admin.client.get("/users").text
    assert "Scheduled maintenance" in page and 'aria-label="Dismiss"' in page


# ---------- the oracle ----------


def test_oracle_lists_every_field_and_no_secret(app: Flask) -> None:
    """/state has 30 users with every field, booleans for secrets, and no secret anywhere."""
    snapshot = state(app)
    assert len(snapshot["users"]) == 30
    assert set(snapshot["users"][0]) == {
        "id", "first_name", "last_name", "email", "extension", "department", "site",
        "emergency_address", "scope", "caller_id", "emergency_caller_id", "voicemail",
        "phone_extension", "password_set", "voicemail_pin_set",
    }  # fmt: skip
    assert {"Sales", "Support", "Engineering", "Finance"} <= set(snapshot["departments"])
    assert len(snapshot["sites"]) == 3 and len(snapshot["addresses"]) == 4
    free = [n for n in snapshot["numbers"] if n["held_by"] is None]
    assert {n["area_code"] for n in free} == {"801", "720", "602"}
    found = secrets_of(app)
    assert PASSWORD in found and len(found) > 5
    text = json.dumps(snapshot)
    assert not [s for s in found if s in text]


def test_oracle_reset_restores_the_seed(admin: Admin, app: Flask) -> None:
    """Reset brings back the seeded users and zeroes the write counters."""
    admin.add()
    admin.post("/users/6/delete", {})
    response = app.test_client().post("/__mock__/reset", json={})
    assert response.status_code == 200
    snapshot = state(app)
    assert len(snapshot["users"]) == 30 and snapshot["counters"]["writes"] == 0


def test_oracle_refuses_other_hosts_browsers_and_non_json_writes(app: Flask) -> None:
    """Non-loopback clients, rebound host names, browser requests and form posts are refused."""
    client = app.test_client()
    remote = client.get("/__mock__/state", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403
    rebound = client.get("/__mock__/secrets", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 403
    browser = client.get("/__mock__/secrets", headers={"Sec-Fetch-Site": "same-origin"})
    assert browser.status_code == 403
    posted = client.post(
        "/__mock__/faults", data={"profile": "flaky"}, headers={"Origin": "http://127.0.0.1"}
    )
    assert posted.status_code == 403
    form = client.post("/__mock__/reset", data="{}", content_type="text/plain")
    assert form.status_code == 415
    bad = client.post("/__mock__/faults", json={"profile": "chaos"})
    assert bad.status_code == 400 and "unknown profile" in bad.get_json()["error"]
    assert client.get("/__mock__/state", headers={"Host": "localhost:5000"}).status_code == 200


# ---------- served for real ----------


@pytest.fixture(scope="module")
def xima_server() -> Iterator[PortalServer]:
    config = XimaConfig(admin_email=ADMIN, admin_password=PASSWORD)
    with PortalServer(create_app(config)) as server:
        yield server


def _oracle(server: PortalServer, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        server.url + "__mock__/" + path,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_runs_under_portal_server_on_a_free_loopback_port(xima_server: PortalServer) -> None:
    """The mock serves over real HTTP on 127.0.0.1, and its oracle answers there."""
    assert xima_server.url.startswith("http://127.0.0.1:")
    assert _oracle(xima_server, "reset", {})["ok"] is True
    assert len(_oracle(xima_server, "state")["users"]) == 30
    with urllib.request.urlopen(xima_server.url + "users", timeout=10) as signed_out:
        assert signed_out.url == xima_server.url and b"<h1>Sign In</h1>" in signed_out.read()


@pytest.mark.browser
def test_browser_adds_edits_and_deletes_a_user_by_role_and_name(
    page: Page, xima_server: PortalServer
) -> None:
    """A person's walk: sign in, Add User with a new address, Edit, Delete; the oracle agrees."""
    _oracle(xima_server, "reset", {})
    _oracle(xima_server, "faults", {"profile": "none"})
    page.goto(xima_server.url)
    page.get_by_role("textbox", name="Email").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(26)  # the header row and 25 users

    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("heading", name="Add User")).to_be_visible()
    page.get_by_role("textbox", name="First Name").fill("Nora")
    page.get_by_role("textbox", name="Last Name").fill("Quinn")
    page.get_by_role("textbox", name="Extension").fill("209")
    page.get_by_role("combobox", name="Department").select_option("Engineering")
    page.get_by_role("combobox", name="Site").click()
    page.get_by_role("listbox", name="Site").get_by_role("option", name=DENVER).click()
    page.get_by_role("textbox", name="Email Address").fill("nora.quinn@example.com")
    page.get_by_role("button", name="Add Address").click()
    page.get_by_role("textbox", name="Street").fill("1600 Glenarm Pl")
    page.get_by_role("textbox", name="City").fill("Denver")
    page.get_by_role("textbox", name="State").fill("CO")
    page.get_by_role("textbox", name="ZIP Code").fill("80202")
    page.get_by_role("button", name="Save Address").click()
    expect(page.get_by_role("status")).to_have_text("Address saved.")
    address = page.get_by_role("combobox", name="Emergency Address")
    expect(address).to_have_text("1600 Glenarm Pl, Denver, CO 80202")
    page.get_by_role("radiogroup", name="User's Scope").get_by_role(
        "radio", name="Site Manager"
    ).check()
    page.get_by_role("combobox", name="Area Code").select_option("720")
    caller_id = page.get_by_role("combobox", name="Caller ID", exact=True)
    expect(caller_id).not_to_have_attribute("aria-disabled", "true")
    caller_id.click()
    page.get_by_role("listbox", name="Caller ID").get_by_role(
        "option", name="(720) 555-0209"
    ).click()
    page.get_by_role("combobox", name="Emergency Caller ID").select_option("(720) 555-0209")
    page.get_by_role("checkbox", name="Enable Voicemail").uncheck()
    expect(page.get_by_role("checkbox", name="Add Phone Extension")).to_be_checked()
    page.get_by_label("Voicemail Pin").fill("86420")
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("status")).to_have_text("User added.")

    user = next(u for u in _oracle(xima_server, "state")["users"] if u["first_name"] == "Nora")
    assert user["site"] == DENVER and user["department"] == "Engineering"
    assert user["emergency_address"] == "1600 Glenarm Pl, Denver, CO 80202"
    assert user["scope"] == "Site Manager" and user["caller_id"] == "7205550209"
    assert user["emergency_caller_id"] == "7205550209" and user["voicemail"] is False
    assert user["phone_extension"] is True and user["voicemail_pin_set"] is True
    assert user["password_set"] is False

    page.get_by_role("textbox", name="Search").fill("nora")
    row = page.get_by_role("row").filter(has_text="nora.quinn@example.com")
    expect(page.get_by_role("row")).to_have_count(2)
    row.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit User")).to_be_visible()
    expect(page.get_by_role("textbox", name="Extension")).to_have_value("209")
    expect(page.get_by_label("Voicemail Pin")).to_have_value("")
    page.get_by_role("textbox", name="Last Name").fill("Quinn-Hart")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("User updated.")
    edited = next(u for u in _oracle(xima_server, "state")["users"] if u["id"] == user["id"])
    assert edited["last_name"] == "Quinn-Hart" and edited["voicemail_pin_set"] is True

    page.get_by_role("textbox", name="Search").fill("quinn-hart")
    expect(page.get_by_role("row")).to_have_count(2)
    row = page.get_by_role("row").filter(has_text="nora.quinn@example.com")
    row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete Nora Quinn-Hart?")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("User deleted.")
    state_after = _oracle(xima_server, "state")
    assert all(u["id"] != user["id"] for u in state_after["users"])
    assert state_after["counters"]["users_added"] == 1
    assert state_after["counters"]["users_updated"] == 1
    assert state_after["counters"]["users_deleted"] == 1
    assert state_after["counters"]["addresses_added"] == 1
