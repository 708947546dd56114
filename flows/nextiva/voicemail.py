"""The voicemail step: voicemail email address and "Send Attachment Of Message"."""

from __future__ import annotations

from domain.nextiva import NewHire
from domain.steps import ALREADY_DONE, CHANGED, NoWitness, Session, StepOutcome, Witness
from flows.nextiva.navigate import open_user_page, step_errors
from pages.nextiva.user_page import VoicemailSettings

VOICEMAIL = "voicemail"


def wanted_settings(hire: NewHire) -> VoicemailSettings:
    """The voicemail settings the hire should have."""
    return VoicemailSettings(email=str(hire.email), send_attachment=hire.send_attachment)


def same(current: VoicemailSettings, wanted: VoicemailSettings) -> bool:
    """Whether the settings agree (email addresses compare case-insensitively)."""
    return (
        current.email.casefold() == wanted.email.casefold()
        and current.send_attachment == wanted.send_attachment
    )


def _shown(settings: VoicemailSettings) -> dict[str, object]:
    return {"email": settings.email, "send attachment": settings.send_attachment}


def current_voicemail(session: Session, hire: NewHire) -> VoicemailSettings:
    """Observe: the voicemail settings of the hire, read from the editor without saving."""
    return open_user_page(session, hire).voicemail.settings()


def set_voicemail(session: Session, hire: NewHire, witness: Witness | None = None) -> StepOutcome:
    """Set the voicemail email and attachment; equal settings are left unsaved."""
    witness = witness or NoWitness()
    wanted = wanted_settings(hire)
    page = session.page
    with step_errors(hire, VOICEMAIL, session):
        section = open_user_page(session, hire).voicemail
        before = section.settings()
        if same(before, wanted):
            outcome = StepOutcome(
                step=VOICEMAIL, action=ALREADY_DONE, before=_shown(before), after=_shown(before)
            )
        else:
            section.fill(wanted)
            witness.before_write(page, VOICEMAIL, f"voicemail settings of {hire.username}")
            section.save()
            outcome = StepOutcome(
                step=VOICEMAIL, action=CHANGED, before=_shown(before), after=_shown(wanted)
            )
    witness.after_step(page, outcome)
    return outcome
