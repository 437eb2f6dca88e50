"""SMTP connections with a timeout (Flask-Mail has none): one connection per batch."""

from __future__ import annotations

import contextlib
import functools
import secrets
import smtplib
import time
from email import policy
from email.utils import parseaddr
from typing import Any

from flask import current_app
from flask_mail import (
    BadHeaderError,
    Connection,
    Message,
    email_dispatched,
    sanitize_address,
    sanitize_addresses,
)

from petitions.branding.queries import current as current_brand
from petitions.core.emails import wire_address


class _Compat32(type(policy.compat32)):  # type: ignore[misc]
    """compat32, with the common header written without the folding machinery.

    A header value that is ASCII, one line and short enough never needs folding, and compat32
    would write it unchanged, only after building and encoding a ``Header`` object for it:
    a seventh of a worker's CPU per email. Anything else is folded as compat32 folds it
    (``tests/mailer/test_mime.py`` compares the two).
    """

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        limit = self.max_line_length
        if (
            isinstance(value, str)
            and limit
            and len(name) + 2 + len(value) <= limit
            and value.isascii()
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return str(super()._fold(name, value, sanitize))


_SMTP_COMPAT32 = _Compat32(linesep="\r\n")


class TimeoutConnection(Connection):
    def __init__(self, state: object, timeout: float) -> None:
        super().__init__(state)  # type: ignore[arg-type]
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        mail = self.mail
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=self.timeout)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=self.timeout)
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host

    def send(self, message: Message, envelope_from: str | tuple[str, str] | None = None) -> None:
        """Flask-Mail's send, with the MIME bytes generated under the compat32 policy.

        Flask-Mail sets ``policy.SMTP`` on the finished message, which makes the generator
        re-parse every header through the header registry: 40 % of a worker's CPU per email.
        Its headers are already sanitised and RFC 2047-encoded, so compat32 with CRLF line
        endings produces an equivalent message at a fraction of the cost.
        """
        if message.has_bad_headers():
            raise BadHeaderError
        # Unicode domains go out IDNA-encoded (Flask-Mail's own codec is IDNA 2003 and raises
        # on some valid domains); an address that still cannot be encoded raises UnicodeError,
        # which the outbox records against this message alone.
        message.recipients = [_wire(r) for r in message.recipients]
        message.cc = [_wire(r) for r in message.cc or []]
        message.bcc = [_wire(r) for r in message.bcc or []]
        if message.date is None:
            message.date = time.time()
        _brand_sender(message)
        sender = envelope_from or message.sender
        if not message.send_to or not sender:
            raise ValueError("a message needs recipients and a sender")
        if self.host is not None:
            if current_app.config.get("MAIL_SMTPUTF8") and _needs_smtputf8(message):
                self._send_smtputf8(message, sender)
            else:
                mime = message._message()  # noqa: SLF001 - Flask-Mail's own MIME builder
                mime.policy = _SMTP_COMPAT32
                _set_boundaries(mime)
                self.host.sendmail(
                    _envelope_sender(sender),
                    list(sanitize_addresses(message.send_to)),
                    mime.as_bytes(),
                    message.mail_options,
                    message.rcpt_options,
                )
        email_dispatched.send(current_app._get_current_object(), message=message)  # type: ignore[attr-defined]

    def _send_smtputf8(self, message: Message, sender: str | tuple[str, str]) -> None:
        """A recipient whose local part is not ASCII (``MAIL_SMTPUTF8`` on): RFC 6531.

        Flask-Mail cannot write such an address into a header, so the MIME is built with the
        recipients left out, and To/Cc are written as UTF-8 by the SMTPUTF8 policy. A server
        that does not advertise SMTPUTF8 makes smtplib raise ``SMTPNotSupportedError``, which
        the outbox records against this message alone.
        """
        assert self.host is not None
        recipients, cc = list(message.recipients), list(message.cc or [])
        message.recipients, message.cc = ["undisclosed-recipients:;"], []
        try:
            mime = message._message()  # noqa: SLF001 - Flask-Mail's own MIME builder
        finally:
            message.recipients, message.cc = recipients, cc
        del mime["To"]
        mime["To"] = ", ".join(_utf8_address(r) for r in recipients)
        if cc:
            mime["Cc"] = ", ".join(_utf8_address(r) for r in cc)
        envelope = [_bare(r) for r in message.send_to]
        self.host.sendmail(
            sanitize_address(sender),
            envelope,
            mime.as_bytes(policy=policy.SMTPUTF8),
            [*message.mail_options, "SMTPUTF8"],
            message.rcpt_options,
        )

    def __exit__(self, *exc: object) -> None:
        if self.host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.host.quit()
            with contextlib.suppress(Exception):
                self.host.close()


def _brand_sender(message: Message) -> None:
    """Messages from the default sender carry the operator's sender name (branding)."""
    default = current_app.config.get("MAIL_DEFAULT_SENDER")
    if not default or message.sender != default:
        return
    name = current_brand().sender_name
    if name:
        address = parseaddr(default)[1] if isinstance(default, str) else default[1]
        message.sender = (name, address)


@functools.lru_cache(maxsize=16)
def _envelope_sender(sender: str | tuple[str, str]) -> str:
    """The sender as Flask-Mail sanitises it: the same for every message, so once."""
    return str(sanitize_address(sender))


def _set_boundaries(mime: Any) -> None:
    """Give each multipart its boundary before the generator does.

    The generator otherwise picks one and then compiles a regular expression of it (a new
    pattern each time, never cached) to check it is absent from the text: a sixth of a
    worker's CPU per email. Ours carry 128 random bits: no body line will ever equal one.
    """
    for part in mime.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(f"==============={secrets.token_hex(16)}==")


def _bare(recipient: str | tuple[str, str]) -> str:
    return recipient[1] if isinstance(recipient, tuple) else parseaddr(recipient)[1]


def _needs_smtputf8(message: Message) -> bool:
    return not all(_bare(r).isascii() for r in message.send_to)


def _utf8_address(recipient: str | tuple[str, str]) -> str:
    name, address = recipient if isinstance(recipient, tuple) else parseaddr(recipient)
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def _wire(recipient: str | tuple[str, str]) -> str | tuple[str, str]:
    if isinstance(recipient, tuple):
        return (recipient[0], wire_address(recipient[1]))
    return wire_address(recipient)


def open_connection() -> TimeoutConnection:
    state = current_app.extensions["mail"]
    return TimeoutConnection(state, current_app.config["MAIL_TIMEOUT"])


def smtp_code(exc: BaseException) -> int | None:
    """The SMTP reply code behind an exception, if the server gave one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None
