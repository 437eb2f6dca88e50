"""The organisers' operator command: ``flask --app petitions create-organiser EMAIL``."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask

from petitions.core import unit_of_work


def init_app(app: Flask) -> None:
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
