"""Users: the Users Overview list, Create User, E911 Address, and the user's page sections."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from mock_portal.nextiva import rules
from mock_portal.nextiva.runtime import MockPortal, current_portal
from mock_portal.nextiva.seed import DEVICE_MODELS, TIME_ZONES
from mock_portal.nextiva.store import Device, Store, User, format_phone
from mock_portal.nextiva.web import CHANGES_SAVED, error_response, wants_fragment

bp = Blueprint("users", __name__)

PAGE_SIZE = 10
SECTIONS = ("profile", "device", "voicemail", "security")
_MAX_QUERY = 100


def _user_or_404(store: Store, user_id: int) -> User:
    user = store.user(user_id)
    if user is None:
        abort(404, description="User not found.")
    return user


@bp.get("/users")
def overview() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    store = current_portal().store
    with store.lock:
        found = store.search_users(query)
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        page = min(page, pages)
        rows = [_row(user) for user in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    context: dict[str, Any] = {
        "rows": rows,
        "query": query,
        "page": page,
        "pages": pages,
        "total": len(found),
        "first": (page - 1) * PAGE_SIZE + 1,
    }
    if wants_fragment():
        return render_template("_users_results.html", **context)
    return render_template("users_overview.html", **context)


def _row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.full_name,
        "username": user.username,
        "email": user.email,
        "extension": user.extension,
        "phone_number": format_phone(user.phone_number),
        "location": user.location,
    }


def _create_context(store: Store, form: dict[str, str]) -> dict[str, Any]:
    data = store.data
    location = store.location(form.get("location", ""))
    numbers = list(location.free_numbers) if location else []
    return {
        "form": form,
        "locations": [(loc.name, loc.name) for loc in data.locations],
        "location_zones": {loc.name: loc.time_zone for loc in data.locations},
        "time_zones": list(TIME_ZONES.items()),
        "numbers": [(n, format_phone(n)) for n in numbers],
        "packages": [(p.name, p.name) for p in data.packages],
        "location_chosen": location is not None,
    }


@bp.get("/users/new")
def create() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        context = _create_context(store, {})
    return render_template("create_user.html", errors={}, **context)


@bp.post("/users/new")
def create_post() -> ResponseReturnValue:
    store = current_portal().store
    form = {key: request.form.get(key, "") for key in request.form}
    user, errors = create_user(request.form)
    if user is None:
        with store.lock:
            context = _create_context(store, form)
        return render_template("create_user.html", errors=errors, **context), 400
    return redirect(url_for("users.e911", user_id=user.id))


def create_user(form: Mapping[str, str]) -> tuple[User | None, rules.Errors]:
    """Create User's save: the new user, or the rule messages by field. Every variant's."""
    portal = current_portal()
    store = portal.store
    with store.lock:
        draft, errors = rules.new_user(store, form)
        if draft is None:
            return None, errors
        user = portal.commit(lambda: (rules.add_user(store, draft), True))
    return user, {}


@bp.get("/api/locations/numbers")
def location_numbers() -> ResponseReturnValue:
    portal = current_portal()
    # Normal portal slowness: the list of free numbers is looked up elsewhere.
    portal.pause(portal.faults.settings.numbers_delay_ms)
    store = portal.store
    with store.lock:
        location = store.location(request.args.get("location", ""))
        if location is None:
            return error_response(404, "Location not found.")
        numbers = [{"value": n, "label": format_phone(n)} for n in location.free_numbers]
        return jsonify(location=location.name, time_zone=location.time_zone, numbers=numbers)


@bp.get("/users/<int:user_id>/e911")
def e911(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        user = _user_or_404(store, user_id)
        location = store.location(user.location)
        address = user.e911_address or (location.address if location else None)
        form = (
            {
                "street": address.street,
                "city": address.city,
                "state": address.state,
                "zip_code": address.zip_code,
            }
            if address
            else {}
        )
        return render_template("e911_address.html", user=user, form=form, errors={})


@bp.post("/users/<int:user_id>/e911")
def e911_post(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    errors = confirm_e911(user_id, request.form)
    if errors:
        with store.lock:
            user = _user_or_404(store, user_id)
        form = {key: request.form.get(key, "") for key in request.form}
        return render_template("e911_address.html", user=user, form=form, errors=errors), 400
    flash(CHANGES_SAVED, "status")
    return redirect(url_for("users.detail", user_id=user_id))


def confirm_e911(user_id: int, form: Mapping[str, str]) -> rules.Errors:
    """E911 Address's save: confirms the address, or the rule messages by field."""
    portal = current_portal()
    store = portal.store
    with store.lock:
        user = _user_or_404(store, user_id)
        address, errors = rules.e911_address(form)
        if address is None:
            return errors

        def apply() -> tuple[None, bool]:
            changed = not user.e911_confirmed or user.e911_address != address
            user.e911_address = address
            user.e911_confirmed = True
            return None, changed

        portal.commit(apply)
    return {}


def _section_context(user: User) -> dict[str, Any]:
    return {
        "user": user,
        "phone": format_phone(user.phone_number),
        "unreachable": format_phone(user.unreachable_number),
        "time_zone_label": TIME_ZONES.get(user.time_zone, user.time_zone),
        "devices": [(d, d) for d in DEVICE_MODELS],
    }


@bp.get("/users/<int:user_id>")
def detail(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        user = _user_or_404(store, user_id)
        return render_template("user.html", sections=SECTIONS, **_section_context(user))


def _section_reply(
    user: User, section: str, *, message: str | None = None, errors: rules.Errors | None = None
) -> ResponseReturnValue:
    html = render_template(f"_section_{section}.html", **_section_context(user))
    if errors:
        return jsonify(error=" ".join(errors.values()), errors=errors, html=html), 400
    return jsonify(message=message, html=html)


@bp.post("/api/users/<int:user_id>/<any(device, voicemail, security):section>")
def save_section(user_id: int, section: str) -> ResponseReturnValue:
    store = current_portal().store
    user, errors = apply_section(user_id, section, request.form)
    with store.lock:
        if errors:
            return _section_reply(user, section, errors=errors)
        return _section_reply(user, section, message=CHANGES_SAVED)


def apply_section(user_id: int, section: str, form: Mapping[str, str]) -> tuple[User, rules.Errors]:
    """A section's Save on the user's page (device, voicemail or security), every variant's."""
    portal = current_portal()
    store = portal.store
    with store.lock:
        user = _user_or_404(store, user_id)
        errors = _SECTION_SAVES[section](portal, user, form)
    return user, errors


def _save_device(portal: MockPortal, user: User, form: Mapping[str, str]) -> rules.Errors:
    change, errors = rules.device(user, form)
    if change is None:
        return errors

    def apply() -> tuple[None, bool]:
        before = user.device
        if not change.device_type:
            user.device = None
            return None, before is not None
        password = change.auth_password or (before.auth_password if before else "")
        user.device = Device(change.device_type, change.auth_name, password)
        return None, user.device != before

    portal.commit(apply)
    return {}


def _save_voicemail(portal: MockPortal, user: User, form: Mapping[str, str]) -> rules.Errors:
    change, errors = rules.voicemail(form)
    if change is None:
        return errors
    email, attach = change

    def apply() -> tuple[None, bool]:
        before = (user.voicemail_to_email, user.voicemail.email, user.voicemail.send_attachment)
        user.voicemail.email = email
        user.voicemail.send_attachment = attach
        # An address to send to is what turns voicemail-to-email on.
        user.voicemail_to_email = bool(email)
        after = (user.voicemail_to_email, user.voicemail.email, user.voicemail.send_attachment)
        return None, before != after

    portal.commit(apply)
    return {}


def _save_security(portal: MockPortal, user: User, form: Mapping[str, str]) -> rules.Errors:
    change, errors = rules.security(user, form)
    if change is None:
        return errors
    authorized, pin = change

    def apply() -> tuple[None, bool]:
        changed = (user.authorized_user, user.pin) != (authorized, pin)
        user.authorized_user = authorized
        user.pin = pin
        return None, changed

    portal.commit(apply)
    return {}


_SECTION_SAVES: dict[str, Callable[[MockPortal, User, Mapping[str, str]], rules.Errors]] = {
    "device": _save_device,
    "voicemail": _save_voicemail,
    "security": _save_security,
}
