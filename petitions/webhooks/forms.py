from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, URLField
from wtforms.validators import DataRequired, Length

from petitions.webhooks.models import EVENTS

EVENT_LABELS = {
    "signature.confirmed": "A signature is confirmed",
    "signature.withdrawn": "A signature is withdrawn",
    "signature.invalidated": "A signature is invalidated",
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

    def chosen_events(self) -> list[str]:
        return [e for e in EVENTS if self[e.split(".", 1)[1]].data]


class EndpointForm(FlaskForm):
    """The buttons on an endpoint (pause, resume, new secret, delete): CSRF only."""
