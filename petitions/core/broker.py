"""Where Celery messages go: Redis in production, a folder when no server is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask


def broker_settings(app: Flask) -> dict[str, Any]:
    url = app.config["CELERY_BROKER_URL"] or app.config["REDIS_URL"]
    if url:
        return {
            "broker_url": url,
            "broker_transport_options": {
                "socket_connect_timeout": 2,
                "socket_timeout": 5,
                "visibility_timeout": 3600,
            },
        }
    folder = Path(app.instance_path) / "broker"
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        },
    }
