"""The copy-paste script in docs/api.md signs a petition using nothing but the OSDI helper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from petitions.extensions import db
from petitions.signing.models import Signature

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_documented_script_signs_a_petition(app: Flask) -> None:
    from tests.support import factories

    block = re.search(r"```python\n(# osdi_sign\.py.*?)```", DOC.read_text(), re.S)
    assert block, "the OSDI script is missing from docs/api.md"
    with app.app_context():
        action_id = factories.make_action().id
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = dict(os.environ)
        env.update(
            BASE=f"http://127.0.0.1:{server.server_port}",
            PETITION=str(action_id),
            EMAIL="scripted@example.org",
        )
        result = subprocess.run(
            [sys.executable, "-c", block.group(1)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        server.shutdown()
    assert result.stdout.startswith("200 "), result.stdout + result.stderr
    assert "pending_confirmation" in result.stdout
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        assert signature is not None and signature.email == "scripted@example.org"
        assert signature.source == "script" and signature.confirmed_at is None
