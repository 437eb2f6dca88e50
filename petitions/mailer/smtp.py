"""SMTP connections with a timeout (Flask-Mail has none): one connection per batch."""

from __future__ import annotations

import contextlib
import smtplib

from flask import current_app
from flask_mail import Connection


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

    def __exit__(self, *exc: object) -> None:
        if self.host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.host.quit()
            with contextlib.suppress(Exception):
                self.host.close()


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
