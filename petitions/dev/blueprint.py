"""Development only: read the mail the local sink caught, so links can be clicked."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _folder() -> Path:
    return Path(current_app.config["DEV_MAIL_DIR"])


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)  # type: ignore[return-value]


@bp.get("/mail")
def mailbox() -> str:
    folder = _folder()
    files = sorted(folder.glob("*.eml"), reverse=True)[:100] if folder.exists() else []
    messages = []
    for path in files:
        message = _read(path)
        messages.append(
            {
                "id": path.stem,
                "subject": message["subject"],
                "to": message["to"],
                "date": message["date"],
            }
        )
    return render_template("dev/mailbox.html", messages=messages)


@bp.get("/mail/<message_id>")
def mail_message(message_id: str) -> str:
    if not message_id.replace("-", "").isdigit():
        abort(404)
    path = _folder() / f"{message_id}.eml"
    if not path.exists():
        abort(404)
    message = _read(path)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    headers = {k: str(v) for k, v in message.items()}
    return render_template("dev/message.html", message_id=message_id, headers=headers, text=text)
