"""Operator commands: ``flask --app petitions demo | create-organiser | mailsink``."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import Flask, current_app

from petitions.core import unit_of_work


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Create the demo campaign (safe to run again)."""
        from petitions.campaigns.services import create_demo_campaign
        from petitions.gatherings.demo import create_demo_events

        campaign = create_demo_campaign()
        create_demo_events(campaign)
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

    @app.cli.command("create-organiser")
    @click.argument("email")
    @click.option("--admin", is_flag=True, help="Make this organiser an administrator.")
    @click.option("--name", default="", help="Display name.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def create_organiser_command(email: str, admin: bool, name: str, password_stdin: bool) -> None:
        """Create an organiser account (or update its role and password)."""
        from petitions.organisers.services import AccountError, create_organiser

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif os.environ.get("ORGANISER_PASSWORD"):
            password = os.environ["ORGANISER_PASSWORD"]
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            organiser = create_organiser(email, password, admin=admin, name=name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        unit_of_work.commit()
        click.echo(f"Organiser {organiser.email} ({organiser.role}) is ready.")

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
