"""Per-user steps on Xima: ensure a user has the roster's values, delete a user, and plan.

Every step looks before it writes: it finds the user by email through Search, then adds
the user when missing, edits only the fields that differ, or does nothing when all match.
So a second run writes nothing, and a run resumed after a crash or an ambiguous save (an
HTTP 5xx after the portal applied it) finds what was saved and makes no duplicate.

The voicemail PIN is written only when the user is added. The portal never shows a PIN
again, so an edit cannot tell whether the PIN set is the roster's; writing it on every
run would make every rerun a write. To change a PIN, an admin does it by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from domain.errors import BusinessError, PortalError, RobotError, SessionExpiredError
from domain.steps import (
    ALREADY_DONE,
    CHANGE,
    CHANGED,
    CREATE,
    CREATED,
    NoWitness,
    StepOutcome,
    StepPlan,
    Witness,
)
from domain.xima import DELETE, LABELS, FieldValue, XimaUser
from pages.xima.answer import sign_in_heading
from pages.xima.delete_dialog import DeleteDialog
from pages.xima.user_form import UserFormPage
from pages.xima.users import UserRow, UsersPage

USER_STEP = "user"
DELETE_STEP = "delete user"
# The delete step's own words: its plan and its outcome.
DELETE_PLAN = "delete"
DELETED = "deleted"
NUMBER_TAKEN = "is already used by another user"
PIN_NOT_REWRITTEN = "Voicemail Pin left as it is: it is written only when the user is added"

# Given the numbers an area code offers, the one to take (a run's workers may share a
# claim so that two new users of one area code do not take the same number).
NumberPicker = Callable[[Sequence[str]], str]


@contextmanager
def _named_errors(user: XimaUser, step: str, page: Page) -> Iterator[None]:
    """Name the user and the step in every error; Playwright's errors become PortalError."""
    try:
        yield
    except RobotError as error:
        if isinstance(error, BusinessError) and sign_in_heading(page).is_visible():
            # A "refusal" on a page the portal replaced with sign-in: the session ended.
            raise SessionExpiredError(
                f"the session expired during this step ({error.message})",
                user=user.email,
                step=step,
            ) from error
        if error.user and error.step:
            raise
        raise type(error)(error.message, user=user.email, step=step) from error
    except PlaywrightError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        # `from None`: the chained error's call log could quote a typed value.
        raise PortalError(first_line, user=user.email, step=step) from None


def _find(page: Page, user: XimaUser) -> tuple[UsersPage, UserRow | None]:
    users = UsersPage(page)
    users.open()
    return users, users.find(user.email)


def _shown_fields(values: dict[str, FieldValue], names: Sequence[str]) -> dict[str, object]:
    return {name: values.get(name, "") for name in names}


def ensure_user(
    page: Page,
    user: XimaUser,
    witness: Witness | None = None,
    *,
    pick_number: NumberPicker | None = None,
) -> StepOutcome:
    """Make the portal hold `user` with the roster's values: add, edit what differs, or
    nothing. Raises BusinessError (the portal's words), PortalError, SessionExpiredError,
    each naming the user and the step.
    """
    if user.action == DELETE:
        raise ValueError(f"{user.email} is to be deleted: use delete_user")
    witness = witness or NoWitness()
    if user.voicemail_pin is not None:
        witness.secret(user.voicemail_pin.get_secret_value())
    with _named_errors(user, USER_STEP, page):
        users, row = _find(page, user)
        if row is None:
            users.open_add_user()
            outcome = _add(page, user, witness, pick_number)
        else:
            users.open_edit(user.email)
            outcome = _edit(page, user, witness, pick_number)
    witness.after_step(page, outcome)
    return outcome


def _choose_address(form: UserFormPage, user: XimaUser, page: Page, witness: Witness) -> bool:
    """Put the user's emergency address in the form, adding it to the account when it lacks
    it (a write of its own). Returns whether it was added."""
    if user.emergency_address is None:
        raise BusinessError("the roster row gives no emergency address")
    if form.has_address(user.emergency_address) is not None:
        form.choose_address(user.emergency_address)
        return False
    witness.before_write(page, USER_STEP, f"Add Address {user.emergency_address.label}")
    form.add_address(user.emergency_address)
    return True


def _set_numbers(
    form: UserFormPage,
    user: XimaUser,
    shown: dict[str, FieldValue],
    changed: set[str],
    pick_number: NumberPicker | None,
) -> dict[str, str]:
    """Set the area code and caller IDs that must change; returns the numbers now set.

    A new area code reloads both caller ID lists, so both are set after it.
    """
    set_now: dict[str, str] = {}
    new_area = "area_code" in changed
    if new_area:
        form.set_values({"area_code": user.area_code})
    caller = str(shown.get("caller_id", ""))
    if new_area or "caller_id" in changed:
        caller = user.caller_id or form.first_free_number(pick_number)
        form.set_values({"caller_id": caller})
        set_now["caller_id"] = caller
    emergency = user.emergency_caller_id or caller
    if new_area or emergency != shown.get("emergency_caller_id"):
        form.set_values({"emergency_caller_id": emergency})
        set_now["emergency_caller_id"] = emergency
    return set_now


def _submit(form: UserFormPage, user: XimaUser, auto_number: bool) -> None:
    """Save the form; a refusal carries the portal's words (each field's, when it shows
    them beside the fields)."""
    try:
        form.submit()
    except BusinessError as refused:
        if auto_number and NUMBER_TAKEN in refused.message:
            # The number was free when the form offered it: someone took it since. Looked
            # at again, the form offers the numbers still free.
            raise PortalError(
                f"the free number chosen was taken meanwhile ({refused.message})"
            ) from refused
        beside = list(dict.fromkeys(form.field_errors().values()))
        if beside:
            raise BusinessError(" ".join(beside)) from refused
        raise


def _add(
    page: Page, user: XimaUser, witness: Witness, pick_number: NumberPicker | None
) -> StepOutcome:
    form = UserFormPage(page)
    wanted = user.portal_values()
    early = ("first_name", "last_name", "extension", "department", "site", "email")
    form.set_values({name: wanted[name] for name in early})
    _choose_address(form, user, page, witness)
    form.set_values({"scope": user.scope})
    numbers = _set_numbers(form, user, {}, {"area_code", "caller_id"}, pick_number)
    form.set_values({"voicemail": user.voicemail, "phone_extension": user.phone_extension})
    if user.voicemail_pin is not None:
        form.set_voicemail_pin(user.voicemail_pin)
    witness.before_write(page, USER_STEP, f"Add User {user.email}")
    _submit(form, user, auto_number=not user.caller_id)
    after: dict[str, object] = {**wanted, **numbers}
    if user.voicemail_pin is not None:
        after["voicemail_pin"] = "set"
    return StepOutcome(
        step=USER_STEP, action=CREATED, before={}, after=after, detail=f"added {user.email}"
    )


def _edit(
    page: Page, user: XimaUser, witness: Witness, pick_number: NumberPicker | None
) -> StepOutcome:
    form = UserFormPage(page)
    shown = form.read()
    differs = user.differences(shown)
    note = PIN_NOT_REWRITTEN if user.voicemail_pin is not None else ""
    if not differs:
        return StepOutcome(
            step=USER_STEP,
            action=ALREADY_DONE,
            before=dict(shown),
            after=dict(shown),
            detail="; ".join(filter(None, [f"{user.email} has every value", note])),
        )
    wanted = user.portal_values()
    plain = {
        name: wanted[name]
        for name in differs
        if name not in ("emergency_address", "area_code", "caller_id", "emergency_caller_id")
    }
    form.set_values(plain)
    after: dict[str, object] = dict(plain)
    if "emergency_address" in differs:
        _choose_address(form, user, page, witness)
        after["emergency_address"] = wanted["emergency_address"]
    numbers = _set_numbers(form, user, shown, set(differs), pick_number)
    after.update(numbers)
    if "area_code" in differs:
        after["area_code"] = user.area_code
    changed = [LABELS[name] for name in after]
    witness.before_write(page, USER_STEP, f"Edit User {user.email}: {', '.join(changed)}")
    _submit(form, user, auto_number="caller_id" in numbers and not user.caller_id)
    return StepOutcome(
        step=USER_STEP,
        action=CHANGED,
        before=_shown_fields(shown, list(after)),
        after=after,
        detail="; ".join(filter(None, [f"changed {', '.join(changed)}", note])),
    )


def delete_user(page: Page, user: XimaUser, witness: Witness | None = None) -> StepOutcome:
    """Make sure the portal holds no user with `user.email`: Delete and confirm, or nothing
    when there is none. The dialog must name the listed user, or nothing is deleted."""
    witness = witness or NoWitness()
    with _named_errors(user, DELETE_STEP, page):
        users, row = _find(page, user)
        if row is None:
            outcome = StepOutcome(
                step=DELETE_STEP,
                action=ALREADY_DONE,
                detail=f"no user has {user.email}",
            )
        else:
            users.ask_delete(user.email)
            dialog = DeleteDialog(page)
            asked = dialog.names()
            if " ".join(row.name.split()) != asked:
                dialog.cancel()
                raise PortalError(f"the Delete dialog asked about {asked!r}, not {row.name!r}")
            listed: dict[str, object] = {
                "name": row.name,
                "email": row.email,
                "extension": row.extension,
            }
            witness.before_write(page, DELETE_STEP, f"Delete {row.name} ({row.email})")
            dialog.confirm()
            outcome = StepOutcome(
                step=DELETE_STEP,
                action=DELETED,
                before=listed,
                after={},
                detail=f"deleted {row.name} ({row.email})",
            )
    witness.after_step(page, outcome)
    return outcome


def converge_user(
    page: Page,
    user: XimaUser,
    witness: Witness | None = None,
    *,
    pick_number: NumberPicker | None = None,
) -> StepOutcome:
    """The roster row's step: `delete_user` for a delete row, else `ensure_user`."""
    if user.action == DELETE:
        return delete_user(page, user, witness)
    return ensure_user(page, user, witness, pick_number=pick_number)


def _change_detail(differs: dict[str, tuple[FieldValue, FieldValue]]) -> str:
    parts = []
    for name, (shown, wanted) in differs.items():
        if wanted == "" and name in ("caller_id", "emergency_caller_id"):
            wanted = "a free number" if name == "caller_id" else "the Caller ID"
        parts.append(f"{LABELS[name]}: {shown!r} -> {wanted!r}")
    return "; ".join(parts)


def plan_user(page: Page, user: XimaUser) -> list[StepPlan]:
    """What a run would do for `user`, by looking only: create, change (naming each field
    that differs, shown -> wanted), delete, or already done. Writes nothing."""
    step = DELETE_STEP if user.action == DELETE else USER_STEP
    with _named_errors(user, step, page):
        users, row = _find(page, user)
        if user.action == DELETE:
            if row is None:
                return [StepPlan(step, ALREADY_DONE, f"no user has {user.email}")]
            return [StepPlan(step, DELETE_PLAN, f"delete {row.name} ({row.email})")]
        if row is None:
            return [StepPlan(step, CREATE, f"add {user.full_name} ({user.email})")]
        users.open_edit(user.email)
        differs = user.differences(UserFormPage(page).read())
    if not differs:
        return [StepPlan(step, ALREADY_DONE, f"{user.email} has every value")]
    return [StepPlan(step, CHANGE, _change_detail(differs))]
