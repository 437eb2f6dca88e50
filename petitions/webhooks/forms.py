from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

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
    events = SelectMultipleField(
        "Events",
        choices=[(e, EVENT_LABELS[e]) for e in EVENTS],
        default=list(EVENTS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class EndpointForm(FlaskForm):
    """The buttons on an endpoint (pause, resume, new secret, delete): CSRF only."""
