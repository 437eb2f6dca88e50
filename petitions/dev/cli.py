"""Development and demonstration commands: ``flask --app petitions demo | mailsink``.

Registered always (``make run`` and a first deployment both use ``demo``); the demo admin is
only created in production when ``DEMO_ADMIN_PASSWORD`` is set.
"""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, current_app

from petitions.core import unit_of_work


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Create the demo campaign (safe to run again)."""
        from petitions.campaigns.demo import create_demo_campaign
        from petitions.gatherings.demo import create_demo_events
        from petitions.letters.demo import create_demo_letters

        campaign = create_demo_campaign()
        create_demo_events(campaign)
        create_demo_letters(campaign)
        unit_of_work.commit()
        click.echo(f"Demo campaign ready: {current_app.config['PUBLIC_URL']}/c/{campaign.slug}")
        _demo_admin(campaign)

    def _demo_admin(campaign: Any) -> None:
        """The organisers' workspace demo: an admin who owns the demo campaign."""
        from petitions.organisers import services as organisers

        production = current_app.config["PETITIONS_ENV"] == "production"
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or organisers.DEMO_ADMIN_PASSWORD
        if production and not os.environ.get("DEMO_ADMIN_PASSWORD"):
            click.echo("No demo admin in production (set DEMO_ADMIN_PASSWORD to create one).")
            return
        admin, created = organisers.create_demo_admin(password)
        if campaign.owner_id is None:
            campaign.owner_id = admin.id
        unit_of_work.commit()
        url = f"{current_app.config['PUBLIC_URL']}/organise/login"
        if created:
            click.echo(f"Demo admin: {admin.email} / {password}  (log in at {url})")
        else:
            click.echo(f"Demo admin: {admin.email} / {password} unless changed (log in at {url})")

    @app.cli.command("ready")
    @click.option("--port", default=5000, type=int)
    def ready_command(port: int) -> None:
        """``make run``'s last word: wait until the web process answers, print where to go,
        then stay quiet until Ctrl-C (so the address is the last thing on the screen)."""
        from petitions.dev.ready import announce_when_up

        announce_when_up(port, current_app.config["PUBLIC_URL"])

    @app.cli.command("mailsink")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=1025, type=int)
    def mailsink_command(host: str, port: int) -> None:
        """Run a local SMTP server that keeps every message (development only)."""
        from petitions.dev.mailsink import serve

        folder = current_app.config["DEV_MAIL_DIR"] or os.path.join(
            current_app.instance_path, "mail"
        )
        serve(host, port, folder)
