"""Users: the list with search and pages, Add User, Edit User, Delete, and the two calls
the user form makes in the background (numbers of an area code, Save Address)."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mock_portal.xima import rules
from mock_portal.xima.runtime import current_portal
from mock_portal.xima.store import SCOPES, Counters, Store, User, area_code
from mock_portal.xima.web import error_response, format_phone, wants_fragment

bp = Blueprint("users", __name__)

PAGE_SIZE = 25
USER_ADDED = "User added."
USER_UPDATED = "User updated."
USER_DELETED = "User deleted."
ADDRESS_SAVED = "Address saved."
_MAX_QUERY = 100
# The form's fields shown again after a refused save (never the password or PIN fields).
_ECHOED = (
    "first_name",
    "last_name",
    "extension",
    "department",
    "site",
    "email",
    "emergency_address",
    "scope",
    "area_code",
    "caller_id",
    "emergency_caller_id",
    "voicemail",
    "phone_extension",
)


def _user_or_404(store: Store, user_id: int) -> User:
    user = store.user(user_id)
    if user is None:
        abort(404, description="User not found.")
    return user


def _list_context(store: Store) -> dict[str, Any]:
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    found = store.search_users(query)
    pages = max(1, math.ceil(len(found) / PAGE_SIZE))
    page = min(page, pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "rows": [_row(user) for user in shown],
        "query": query,
        "page": page,
        "pages": pages,
        "total": len(found),
        "first": (page - 1) * PAGE_SIZE + 1,
    }


def _row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.full_name,
        "extension": user.extension,
        "email": user.email,
        "department": user.department,
        "site": user.site,
        "scope": user.scope,
    }


@bp.get("/users")
def users() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        context = _list_context(store)
    if wants_fragment():
        return render_template("_users_results.html", **context)
    return render_template("users.html", confirm=None, **context)


@bp.get("/users/<int:user_id>/delete")
def confirm_delete(user_id: int) -> ResponseReturnValue:
    """The Users screen with the delete dialog open (what the X opens without script)."""
    store = current_portal().store
    with store.lock:
        user = _user_or_404(store, user_id)
        context = _list_context(store)
        return render_template("users.html", confirm=_row(user), **context)


@bp.post("/users/<int:user_id>/delete")
def delete_post(user_id: int) -> ResponseReturnValue:
    portal = current_portal()
    store = portal.store
    with store.lock:
        user = _user_or_404(store, user_id)

        def apply(counters: Counters) -> None:
            store.delete_user(user)
            counters.users_deleted += 1

        portal.commit(apply)
    flash(USER_DELETED, "status")
    return redirect(url_for("users.users"))


def _form_context(store: Store, form: dict[str, str], user: User | None) -> dict[str, Any]:
    data = store.data
    codes = store.area_codes()
    code = form.get("area_code", "")
    numbers = store.free_numbers(code, for_user=user.id if user else None) if code in codes else []
    return {
        "form": form,
        "user": user,
        "departments": [(d, d) for d in data.departments],
        "sites": [(s, s) for s in data.sites],
        "addresses": [(str(a.id), a.label) for a in data.addresses],
        "scopes": SCOPES,
        "area_codes": [(c, c) for c in codes],
        "numbers": [(n, format_phone(n)) for n in numbers],
        "area_code_chosen": code in codes,
    }


def _submitted() -> dict[str, str]:
    # Secrets are never sent back to the browser, not even after a refused save.
    return {name: (request.form.get(name) or "").strip() for name in _ECHOED}


def _render_form(
    store: Store,
    form: dict[str, str],
    user: User | None,
    errors: rules.Errors | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    template = "edit_user.html" if user else "add_user.html"
    context = _form_context(store, form, user)
    return render_template(template, errors=errors or {}, **context), status


@bp.get("/users/new")
def add_user() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        # New users get voicemail, a phone extension and the basic scope unless unticked.
        form = {"voicemail": "on", "phone_extension": "on", "scope": SCOPES[0]}
        return _render_form(store, form, None)


@bp.post("/users/new")
def add_user_post() -> ResponseReturnValue:
    portal = current_portal()
    store = portal.store
    with store.lock:
        values, errors = rules.user_form(store, request.form)
        if values is None:
            return _render_form(store, _submitted(), None, errors, 400)

        def apply(counters: Counters) -> User:
            counters.users_added += 1
            return store.add_user(values.new_user())

        portal.commit(apply)
    flash(USER_ADDED, "status")
    return redirect(url_for("users.users"))


def _user_form_values(store: Store, user: User) -> dict[str, str]:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "extension": user.extension,
        "department": user.department,
        "site": user.site,
        "email": user.email,
        "emergency_address": str(user.emergency_address),
        "scope": user.scope,
        "area_code": area_code(user.caller_id),
        "caller_id": user.caller_id,
        "emergency_caller_id": user.emergency_caller_id,
        "voicemail": "on" if user.voicemail else "",
        "phone_extension": "on" if user.phone_extension else "",
    }


@bp.get("/users/<int:user_id>/edit")
def edit_user(user_id: int) -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        user = _user_or_404(store, user_id)
        return _render_form(store, _user_form_values(store, user), user)


@bp.post("/users/<int:user_id>/edit")
def edit_user_post(user_id: int) -> ResponseReturnValue:
    portal = current_portal()
    store = portal.store
    with store.lock:
        user = _user_or_404(store, user_id)
        values, errors = rules.user_form(store, request.form, editing=user)
        if values is None:
            return _render_form(store, _submitted(), user, errors, 400)

        def apply(counters: Counters) -> None:
            if values.changes(user):
                values.apply_to(user)
                counters.users_updated += 1

        portal.commit(apply)
    flash(USER_UPDATED, "status")
    return redirect(url_for("users.users"))


@bp.get("/api/numbers")
def numbers() -> ResponseReturnValue:
    """The free numbers of an area code (and the edited user's own), for the form's lists."""
    portal = current_portal()
    # Normal portal slowness: the numbers are looked up elsewhere.
    portal.pause(portal.faults.settings.numbers_delay_ms)
    store = portal.store
    code = request.args.get("area_code", "")
    user_id = request.args.get("user", "")
    with store.lock:
        if code not in store.area_codes():
            return error_response(404, "Area code not found.")
        owner = int(user_id) if user_id.isdigit() and len(user_id) < 10 else None
        free = store.free_numbers(code, for_user=owner)
        return jsonify(
            area_code=code, numbers=[{"value": n, "label": format_phone(n)} for n in free]
        )


@bp.post("/api/addresses")
def add_address() -> ResponseReturnValue:
    """Save Address: add an emergency address to the account, or find the same one."""
    portal = current_portal()
    store = portal.store
    with store.lock:
        values, errors = rules.address_form(request.form)
        if values is None:
            return jsonify(error=" ".join(errors.values()), errors=errors), 400
        existing = store.address_like(values.street, values.city, values.state, values.zip_code)
        if existing is not None:
            # Saving an address the account has selects it: no duplicate in the list.
            return jsonify(id=str(existing.id), label=existing.label, message=ADDRESS_SAVED)

        def apply(counters: Counters) -> tuple[str, str]:
            counters.addresses_added += 1
            address = store.add_address(values.street, values.city, values.state, values.zip_code)
            return str(address.id), address.label

        address_id, label = portal.commit(apply)
        return jsonify(id=address_id, label=label, message=ADDRESS_SAVED)
