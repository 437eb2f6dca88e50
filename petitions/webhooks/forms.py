from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, URLField
from wtforms.validators import DataRequired, Length

from petitions.webhooks.models import EVENTS

EVENT_LABELS = {
    "signature.confirmed": _l("A signature is confirmed"),
    "signature.withdrawn": _l("A signature is withdrawn"),
    "signature.invalidated": _l("A signature is invalidated"),
    "rsvp.confirmed": _l("An RSVP to an event is confirmed (going, waitlisted or full)"),
    "rsvp.cancelled": _l("An RSVP is cancelled"),
    "rsvp.promoted": _l("Someone on a waitlist gets a place"),
    "outreach.confirmed": _l("A letter to a target is confirmed (it is on its way)"),
    "outreach.withdrawn": _l("A letter is withdrawn by its writer"),
    "outreach.invalidated": _l("A letter is invalidated"),
}

# The form field of each event: "signature.confirmed" -> "confirmed", "rsvp.confirmed" ->
# "rsvp_confirmed" (signature events keep their old field names).
EVENT_FIELDS = {
    event: event.split(".", 1)[1] if event.startswith("signature.") else event.replace(".", "_")
    for event in EVENTS
}


class WebhookForm(FlaskForm):
    url = URLField(
        _l("Receiving address (URL)"),
        validators=[DataRequired(_l("Enter the address to send events to.")), Length(max=500)],
        render_kw={"placeholder": "https://crm.example.org/hooks/petitions"},
    )
    confirmed = BooleanField(EVENT_LABELS["signature.confirmed"], default=True)
    withdrawn = BooleanField(EVENT_LABELS["signature.withdrawn"], default=True)
    invalidated = BooleanField(EVENT_LABELS["signature.invalidated"], default=True)
    rsvp_confirmed = BooleanField(EVENT_LABELS["rsvp.confirmed"], default=True)
    rsvp_cancelled = BooleanField(EVENT_LABELS["rsvp.cancelled"], default=True)
    rsvp_promoted = BooleanField(EVENT_LABELS["rsvp.promoted"], default=True)
    outreach_confirmed = BooleanField(EVENT_LABELS["outreach.confirmed"], default=True)
    outreach_withdrawn = BooleanField(EVENT_LABELS["outreach.withdrawn"], default=True)
    outreach_invalidated = BooleanField(EVENT_LABELS["outreach.invalidated"], default=True)
    include_sensitive = BooleanField(
        _l("Include RSVP answers marked sensitive (e.g. access needs)"), default=False
    )

    def chosen_events(self) -> list[str]:
        return [e for e in EVENTS if self[EVENT_FIELDS[e]].data]


class EndpointForm(FlaskForm):
    """The buttons on an endpoint (pause, resume, new secret, delete): CSRF only."""
