"""My Account: the overview, the Licensing table and the Assign screen of each licence."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mock_portal.nextiva.runtime import current_portal
from mock_portal.nextiva.store import License, Store
from mock_portal.nextiva.web import CHANGES_SAVED, wants_fragment

bp = Blueprint("account", __name__, url_prefix="/account")

_MAX_QUERY = 100


def _license_or_404(store: Store, index: int) -> License:
    license_ = store.license_at(index)
    if license_ is None:
        abort(404, description="License not found.")
    return license_


def no_seats_message(license_: License, wanted: int) -> str:
    if license_.seats_used >= license_.seats_total:
        return (
            f"No licenses available. All {license_.seats_total} {license_.name} "
            "licenses are assigned."
        )
    free = license_.seats_total - license_.seats_used
    return (
        f"Not enough licenses available: {wanted} more needed, {free} of "
        f"{license_.seats_total} {license_.name} licenses free."
    )


@bp.get("/")
def overview() -> ResponseReturnValue:
    return render_template("my_account.html")


@bp.get("/licensing")
def licensing() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        rows = [
            {"index": i, "name": lic.name, "used": lic.seats_used, "total": lic.seats_total}
            for i, lic in enumerate(store.data.licenses)
        ]
    return render_template("licensing.html", rows=rows)


def _assign_context(store: Store, index: int, query: str) -> dict[str, Any]:
    license_ = _license_or_404(store, index)
    held = set(license_.assigned)
    users = [
        {"username": u.username, "label": u.license_label, "checked": u.username in held}
        for u in store.search_users(query)
    ]
    return {
        "index": index,
        "license": license_,
        "users": users,
        "query": query,
    }


@bp.get("/licensing/<int:index>/assign")
def assign(index: int) -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    store = current_portal().store
    with store.lock:
        context = _assign_context(store, index, query)
    if wants_fragment():
        return render_template("_assign_users.html", **context)
    return render_template("assign_license.html", alert=None, **context)


@bp.post("/licensing/<int:index>/assign")
def assign_post(index: int) -> ResponseReturnValue:
    store = current_portal().store
    query = request.form.get("q", "").strip()[:_MAX_QUERY]
    alert = assign_licence(index, request.form.getlist("shown"), request.form.getlist("selected"))
    if alert:
        with store.lock:
            context = _assign_context(store, index, query)
        return render_template("assign_license.html", alert=alert, **context), 400
    flash(CHANGES_SAVED, "status")
    return redirect(url_for("account.assign", index=index, q=query or None))


UNKNOWN_USER = "Unknown user in the request. Please reload the page and try again."


def assign_licence(index: int, shown: list[str], selected: list[str]) -> str | None:
    """The Assign screen's Save: the users shown hold the licence if selected, else not.

    Returns the portal's refusal (unknown user, not enough seats), or None once saved.
    Users not shown keep what they have.
    """
    portal = current_portal()
    store = portal.store
    chosen = set(selected)
    with store.lock:
        license_ = _license_or_404(store, index)
        known = {u.username for u in store.data.users}
        if not set(shown) <= known or not chosen <= set(shown):
            return UNKNOWN_USER
        removed = set(shown) - chosen
        assigned = [name for name in license_.assigned if name not in removed]
        added = [name for name in shown if name in chosen and name not in assigned]
        if len(assigned) + len(added) > license_.seats_total:
            wanted = len(assigned) + len(added) - license_.seats_used
            return no_seats_message(license_, wanted)

        def apply() -> tuple[None, bool]:
            new = assigned + added
            changed = new != license_.assigned
            license_.assigned = new
            return None, changed

        portal.commit(apply)
    return None
