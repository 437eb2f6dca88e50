"""``flask --app petitions events send-reminders [--now]``: send due event reminders.

``--now`` is for demos: every upcoming event is treated as if its first reminder were due, so
the reminder goes out at once (still exactly once per attendee: run it twice, nothing new).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

events_cli = AppGroup("events", help="Event reminders and follow-ups.")


@events_cli.command("send-reminders")
@click.option(
    "--now", "demo_now", is_flag=True, help="Send each upcoming event's first reminder now."
)
def send_reminders_command(demo_now: bool) -> None:
    """Plan and send the reminders (and follow-ups) that are due."""
    from petitions.gatherings import jobs

    report = jobs.run(demo_now=demo_now)
    click.echo(
        f"Event messages: {report.planned} planned, {report.sent} sent, "
        f"{report.skipped} skipped, {report.failed} failed, {report.unknown} unknown."
    )
