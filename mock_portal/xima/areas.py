"""The other entries of the top menu: Sites, Departments and Reports, read-only here."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from mock_portal.xima.runtime import current_portal

bp = Blueprint("areas", __name__)


@bp.get("/sites")
def sites() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        counts = Counter(u.site for u in store.data.users)
        rows = [(name, counts[name]) for name in store.data.sites]
        addresses = [a.label for a in store.data.addresses]
    return render_template("sites.html", rows=rows, addresses=addresses)


@bp.get("/departments")
def departments() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        counts = Counter(u.department for u in store.data.users)
        rows = [(name, counts[name]) for name in store.data.departments]
    return render_template("departments.html", rows=rows)


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    store = current_portal().store
    with store.lock:
        scopes = Counter(u.scope for u in store.data.users)
        total = len(store.data.users)
    return render_template("reports.html", scopes=sorted(scopes.items()), total=total)
