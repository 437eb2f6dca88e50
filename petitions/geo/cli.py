"""``flask --app petitions geo load-postcodes FILE`` and ``geo load-representatives FILE``.

Operators download the files (docs/letters.md names the sources and licences); nothing here
touches the network.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

geo_cli = AppGroup("geo", help="Postcodes, constituencies and representatives (letters).")


@geo_cli.command("load-postcodes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_postcodes_command(path: Path) -> None:
    """Replace the postcode → constituency table with FILE (ONSPD/NSPL or mySociety CSV)."""
    from petitions.geo import jobs

    started = time.monotonic()
    try:
        report = jobs.load_postcodes(
            path,
            progress=lambda n: click.echo(
                f"  {n:,} rows read ({time.monotonic() - started:.0f} s)"
            ),
        )
    except jobs.LoadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Postcodes loaded: {report.rows_loaded:,} rows ({report.skipped:,} skipped, "
        f"{report.constituencies} constituency names) in {time.monotonic() - started:.1f} s."
    )


@geo_cli.command("load-representatives")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_representatives_command(path: Path) -> None:
    """Add or update the representatives (MPs) in FILE (CSV or JSON)."""
    from petitions.geo import jobs

    try:
        report = jobs.load_representatives(path)
    except (jobs.LoadError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Representatives loaded: {report.rows_loaded} "
        f"({report.constituencies} new constituencies)."
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(geo_cli)
