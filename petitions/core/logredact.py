"""No email addresses or link tokens in logs, whoever logs them.

A log-record factory (installed once per process by ``create_app``) rewrites every record's
message, and any traceback text, before a handler sees it: email addresses become
``[email]``, and the token part of ``/confirm/…``, ``/unsubscribe/…`` and similar links, and any
long URL-safe random string, becomes ``[token]``. It covers our loggers, Werkzeug's request log,
Gunicorn's and Celery's, and SQLAlchemy errors that quote parameters.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# Unicode-aware: ``\w`` matches any letter or digit (zoë, josé, straße, fullwidth or Cyrillic
# look-alikes), and the fullwidth at sign counts as one.
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+[@\uff20][\w-]+(?:[.\uff0e][\w-]+)+")
# A path segment after a word, long enough to be a secret (our tokens are 43 chars).
TOKEN_IN_PATH = re.compile(r"(/[a-z_-]+/)([A-Za-z0-9_-]{20,})", re.I)
LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _long_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if (_HEX.match(text) and len(text) in (32, 40, 64)) or _UUID.match(text):
        return text  # hashes and ids (task ids, commit ids, token hashes) are not secrets
    return "[token]"


def redact(text: str) -> str:
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = TOKEN_IN_PATH.sub(lambda m: m.group(1) + "[token]", text)
    return LONG_TOKEN.sub(_long_token, text)


_installed = False


def install() -> None:
    """Wrap the process's log-record factory (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it for logging to report
            return record
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact(text)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
