"""What the portal offers in its dropdowns and lists, read once per run, and the roster values
it does not offer.

The offline roster check cannot know a portal's locations, packages, devices or licences;
without this, a hire at an office the account does not have would be planned as "create"
and, in a run, fail only at the dropdown after the user's first save. Reading the options
once (Create User's Location and Package, a user's Available Devices, the Licensing
table) lets `plan` report such rows and `run` refuse them before any write.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.nextiva import NewHire
from domain.steps import Session
from flows.nextiva.licensing import open_assign
from flows.nextiva.navigate import named_errors, open_users_overview
from pages.nextiva.create_user import CreateUserPage
from pages.nextiva.user_page import UserPage
from pages.widgets import not_offered, pick_offered

READING = "reading the portal's options"


@dataclass(frozen=True)
class PortalOptions:
    """What the portal offers; None where it could not be read (no user to look at)."""

    locations: tuple[str, ...] | None = None
    packages: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    licenses: tuple[str, ...] | None = None


def read_options(session: Session) -> PortalOptions:
    """Read every option a roster value must be among. Observes only, saves nothing.

    Ends on the Create User form, left unsaved. Raises PortalError when the portal fails.
    """
    page = session.page
    with named_errors("portal", READING, session):
        overview = open_users_overview(session)
        listed = overview.listed()
        devices: tuple[str, ...] | None = None
        if listed:
            # Any user's Device section offers the account's devices; opening it saves nothing.
            first = listed[0]
            overview.open_user(first)
            devices = tuple(UserPage(page, first.name).device.available_devices_offered())
        licensing, _ = open_assign(session, None)
        licenses = tuple(licensing.licenses())
        overview = open_users_overview(session)
        overview.open_add_users()
        form = CreateUserPage(page)
        return PortalOptions(
            locations=tuple(form.location.offered()),
            packages=tuple(form.package.offered()),
            devices=devices,
            licenses=licenses,
        )


def unoffered(hire: NewHire, options: PortalOptions) -> list[str]:
    """Each roster value of `hire` the portal does not offer, by column, with what it offers."""
    wanted = [
        ("location", hire.location, options.locations),
        ("package", hire.package, options.packages),
        ("device", hire.device, options.devices),
        ("license", hire.license, options.licenses),
    ]
    return [
        not_offered(column, value, offered)
        for column, value, offered in wanted
        if value is not None and offered is not None and pick_offered(value, offered) is None
    ]
