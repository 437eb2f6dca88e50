"""Forms shared by every area."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A button that changes one thing: the form holds only its CSRF token."""
