"""No email addresses, IP addresses or link tokens in logs, whoever logs them.

A log-record factory (installed once per process by ``create_app``) rewrites every record's
message, and any traceback text, before a handler sees it: email addresses become
``[email]``, IPv4 and IPv6 addresses ``[ip]``, and the token part of ``/confirm/…``,
``/u/…`` (one-click unsubscribe), ``/my/signin/…`` and similar links, signed tokens
(``payload.signature``, as itsdangerous makes them), token query parameters (``?p=`` prefill)
and any long URL-safe random string become ``[token]``. It covers our loggers, Werkzeug's and
granian's access logs (the worker process that serves requests runs ``create_app``),
Celery's, and SQLAlchemy's. SQLAlchemy is also told not to put bound values in its errors
(``hide_parameters``, see ``config.py``), so names, postcodes and comments never get there.
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
# Any path segment after a link that carries a secret, whatever its shape.
LINK_TOKEN = re.compile(
    r"(/(?:u|confirm|signin|invite|rsvp|host|unsubscribe)/)([^/\s?#\"']+)", re.I
)
# itsdangerous: base64 payload, optional timestamp, then a 27+ character signature.
SIGNED_TOKEN = re.compile(
    r"(?<![\w.-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?\."
    r"(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{27,}"  # base64: mixed case, digits
)
TOKEN_IN_QUERY = re.compile(r"([?&](?:p|t|token)=)[^&\s#\"']+", re.I)
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(
    r"(?<![\w:.])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}"
    r"(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![\w:])",
    re.I,
)
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _long_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if (_HEX.match(text) and len(text) in (32, 40, 64)) or _UUID.match(text):
        return text  # hashes and ids (task ids, commit ids, token hashes) are not secrets
    return "[token]"


# What each pattern cannot match without (checked first: every access-log line is redacted,
# and most hold no address, link or long run, so most patterns need not scan them at all).
# Both as case-insensitive as the patterns they stand for (re.I also folds "K" and "ſ").
_LINK_WORD = re.compile(r"/(?:u|confirm|signin|invite|rsvp|host|unsubscribe)/", re.I)
_RUN = re.compile(r"[A-Za-z0-9_-]{20,}", re.I)  # the shortest run a token pattern needs


def redact(text: str) -> str:
    if not text:
        return text
    if "@" in text or "\uff20" in text:
        text = EMAIL.sub("[email]", text)
    if _LINK_WORD.search(text):
        text = LINK_TOKEN.sub(lambda m: m.group(1) + "[token]", text)
    if "=" in text:
        text = TOKEN_IN_QUERY.sub(lambda m: m.group(1) + "[token]", text)
    if _RUN.search(text):
        text = SIGNED_TOKEN.sub("[token]", text)
        text = TOKEN_IN_PATH.sub(lambda m: m.group(1) + "[token]", text)
    if "::" in text or text.count(":") >= 7:
        text = IPV6.sub(_ipv6, text)
    if text.count(".") >= 3:
        text = IPV4.sub("[ip]", text)
    if _RUN.search(text):
        text = LONG_TOKEN.sub(_long_token, text)
    return text


def _ipv6(match: re.Match[str]) -> str:
    # "::" alone, or a lone "a::" in prose, is no address; a real one has 2+ hex groups.
    return (
        "[ip]"
        if len([g for g in re.split(r"[:.]", match.group(0)) if g]) >= 2
        or (match.group(0) == "::1")
        else match.group(0)
    )


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
