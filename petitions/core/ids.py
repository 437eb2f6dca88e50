"""Ids from the outside world: one converter for URLs, one parser for query strings and forms.

Every id column is at least a PostgreSQL ``INTEGER``; a value past its range used to reach the
database and come back as a 500 ("integer out of range"). Here an id is ASCII digits only
(``"²"`` and ``"١٢"`` pass ``str.isdigit`` but are not ids) and at most ``MAX_ID``: a URL with
anything else is a 404 like any unknown id, a query or form value a 400 with a message.
``create_app`` installs ``IdConverter`` as the ``int`` converter before any blueprint is
registered, so every ``<int:...>`` rule uses it.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map
from wtforms.validators import ValidationError

# The narrowest id column (INTEGER). Ids past it have never been issued.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


class InvalidId(BadRequest):
    """A 400 whose message is shown to the client (the error pages use ``public_message``)."""

    def __init__(self, name: str) -> None:
        self.public_message = _(
            "%(name)s must be a whole number between 1 and %(max)d.", name=name, max=MAX_ID
        )
        super().__init__(self.public_message)


def _range_pattern(limit: int) -> str:
    """A regex matching exactly the decimal numbers 1..limit (no leading zeros)."""
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else ""
    same_length = []
    for i, ch in enumerate(digits):
        low = "1" if i == 0 else "0"
        if ch > low:
            rest = len(digits) - i - 1
            top = chr(ord(ch) - 1)
            same_length.append(f"{digits[:i]}[{low}-{top}][0-9]{{{rest}}}")
    same_length.append(digits)
    return "|".join(p for p in [shorter, *same_length] if p)


class IdConverter(IntegerConverter):
    """``<int:x>``: ASCII digits, 1..MAX_ID, else the rule does not match (404).

    The range is in the regex itself: a value the regex admits but ``to_python`` refused would
    make werkzeug's matcher answer 405 instead of 404 where another method's rule shares the
    path.
    """

    regex = f"(?:{_range_pattern(MAX_ID)})"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(value: str | None) -> int | None:
    """An id from untrusted text, or None when it is not one."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def id_arg(values: Any, name: str) -> int | None:
    """``request.args``/``request.form`` value ``name`` as an id: None when absent or empty,
    ``InvalidId`` (400) when present but not an id."""
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    number = parse_id(raw)
    if number is None:
        raise InvalidId(name)
    return number


def id_list(values: Any, name: str) -> list[int]:
    """Every ``name`` value as an id; ``InvalidId`` (400) if any is not one."""
    numbers = []
    for raw in values.getlist(name):
        number = parse_id(raw)
        if number is None:
            raise InvalidId(name)
        numbers.append(number)
    return numbers


def valid_id(form: Any, field: Any) -> None:
    """WTForms validator for an ``IntegerField`` holding an id."""
    if field.data is None or not 1 <= int(field.data) <= MAX_ID:
        raise ValidationError(_("Must be a whole number between 1 and %(max)d.", max=MAX_ID))


def install(url_map: Map) -> None:
    """Make ``<int:...>`` mean an id. Call before registering any route."""
    url_map.converters["int"] = IdConverter
