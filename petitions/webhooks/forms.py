from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, URLField
from wtforms.validators import DataRequired, Length

from petitions.webhooks.models import EVENTS

EVENT_LABELS = {
    "signature.confirmed": "A signature is confirmed",
    "signature.withdrawn": "A signature is withdrawn",
    "signature.invalidated": "A signature is invalidated",
    "rsvp.confirmed": "An RSVP to an event is confirmed (going, waitlisted or full)",
    "rsvp.cancelled": "An RSVP is cancelled",
    "rsvp.promoted": "Someone on a waitlist gets a place",
    "outreach.confirmed": "A letter to a target is confirmed (it is on its way)",
    "outreach.withdrawn": "A letter is withdrawn by its writer",
    "outreach.invalidated": "A letter is invalidated",
}

# The form field of each event: "signature.confirmed" -> "confirmed", "rsvp.confirmed" ->
# "rsvp_confirmed" (signature events keep their old field names).
EVENT_FIELDS = {
    event: event.split(".", 1)[1] if event.startswith("signature.") else event.replace(".", "_")
    for event in EVENTS
}


class WebhookForm(FlaskForm):
    url = URLField(
        "Receiving address (URL)",
        validators=[DataRequired("Enter the address to send events to."), Length(max=500)],
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
        "Include RSVP answers marked sensitive (e.g. access needs)", default=False
    )

    def chosen_events(self) -> list[str]:
        return [e for e in EVENTS if self[EVENT_FIELDS[e]].data]


class EndpointForm(FlaskForm):
    """The buttons on an endpoint (pause, resume, new secret, delete): CSRF only."""
