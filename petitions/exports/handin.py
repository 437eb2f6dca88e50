"""The hand-in PDF: a cover page and every confirmed signature, for handing to the target.

Written by the export worker (``jobs.run_export`` for a job of kind ``handin``), with
ReportLab's canvas: rows come from a server-side cursor and are drawn one at a time, so the
signatures are never all in memory; only the finished pages are (compressed, a few KB each),
until ``save()``. Each signature is measured before it is drawn and goes whole onto the current
column or the next one: a signature is never split across pages or columns.

Only the name and the place (UK postcode area, or the country outside the UK) are printed —
never an email address, postcode or comment. Paper signatures (``petitions.paper``) are listed
with the others and the offline tallies are summed on the cover.

Language: the organiser chooses it on the form (``ExportJob.language``); the worker builds the
cover and draws the pages inside ``in_language`` (Flask-Babel's ``force_locale``), so every word
of ours, the dates (Babel, in that locale), the counts (that language's plural forms) and the
action's own words (its version in that language when the organiser wrote one, else the
default's, through ``core.i18n.localised``) are in it.

Fonts: DejaVu Sans (Debian's ``fonts-dejavu-core``, in ``HANDIN_FONT_DIR``), which covers
Welsh (ŵ, ŷ), the other Latin-script alphabets, Greek and Cyrillic. It is read from disk, never
fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.numbers import get_group_symbol
from flask import current_app
from flask_babel import format_date, format_decimal, get_locale, gettext, ngettext, pgettext
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Paragraph
from sqlalchemy import and_, case, func, literal, select, union_all

from petitions.branding import queries as branding
from petitions.branding.models import DEFAULT_NAME
from petitions.campaigns.models import Action
from petitions.core.i18n import N_, localised
from petitions.core.text import markdown_to_plain
from petitions.core.time import as_utc
from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

# The form offers these in the page's language; the cover names the one chosen in the PDF's.
GROUPINGS = {"": N_("One list, in the order people signed"), "area": N_("Grouped by postcode area")}
FONT = "HandinSans"
FONT_BOLD = "HandinSans-Bold"
FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}

PAGE_W, PAGE_H = landscape(A4)
MARGIN = 36
TOP = PAGE_H - MARGIN - 34  # below the running header
BOTTOM = MARGIN + 18  # above the footer
BANDS = 3
GUTTER = 18
BAND_W = (PAGE_W - 2 * MARGIN - (BANDS - 1) * GUTTER) / BANDS
NUM_W, PLACE_W = 40, 46
NAME_W = BAND_W - NUM_W - PLACE_W - 6
SIZE, LEADING = 9, 11.5
ROW_GAP = 2.5
HEAD_SIZE, HEAD_H = 10, 18


class FontMissing(RuntimeError):
    """The PDF fonts are not installed (HANDIN_FONT_DIR)."""


def register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(current_app.config.get("HANDIN_FONT_DIR") or "/usr/share/fonts/truetype/dejavu")
    for name, file_name in FONT_FILES.items():
        path = folder / file_name
        if not path.is_file():
            raise FontMissing(f"{path} not found: install fonts-dejavu-core or set HANDIN_FONT_DIR")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


# --- what goes in ----------------------------------------------------------------------------


def _place(country: Any, area: Any) -> Any:
    """UK postcode area, or the country code outside the UK (never the postcode)."""
    return case((and_(country == "GB", area != ""), area), else_=country)


def rows_query(action_id: int, grouping: str = "") -> Any:
    """Every confirmed, valid signature and every live paper signature: (name, place)."""
    online = select(
        Signature.name.label("name"),
        _place(Signature.country, Signature.postcode_area).label("place"),
        literal(0).label("paper"),
        Signature.id.label("id"),
    ).where(
        Signature.action_id == action_id,
        Signature.is_confirmed,
    )
    paper = select(
        PaperSignature.name.label("name"),
        _place(PaperSignature.country, PaperSignature.postcode_area).label("place"),
        literal(1).label("paper"),
        PaperSignature.id.label("id"),
    ).where(PaperSignature.action_id == action_id, PaperSignature.removed_at.is_(None))
    both = union_all(online, paper).subquery()
    order = [both.c.paper, both.c.id]
    if grouping:
        order.insert(0, both.c.place)
    return select(both.c.name, both.c.place, both.c.paper).order_by(*order)


def group_counts(action_id: int) -> dict[str, int]:
    both = rows_query(action_id).order_by(None).subquery()
    return {
        str(row.place): int(row.n)
        for row in db.session.execute(
            select(both.c.place, func.count().label("n")).group_by(both.c.place)
        )
    }


def count_rows(action_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(rows_query(action_id).order_by(None).subquery())
        )
        or 0
    )


@dataclass
class Cover:
    organisation: str
    campaign: str
    title: str
    text: str
    target: str
    listed: int  # signatures named in this document (online and paper)
    tallied: int  # offline tallies: counted, not named
    first: date | None
    last: date | None
    grouping: str


def cover_for(action: Action, grouping: str) -> Cover:
    confirmed = select(func.min(Signature.confirmed_at), func.max(Signature.confirmed_at)).where(
        Signature.action_id == action.id, Signature.is_confirmed
    )
    first, last = db.session.execute(confirmed).one()
    paper_first, paper_last = db.session.execute(
        select(func.min(PaperSignature.collected_on), func.max(PaperSignature.collected_on)).where(
            PaperSignature.action_id == action.id, PaperSignature.removed_at.is_(None)
        )
    ).one()
    tallies = db.session.execute(
        select(
            func.coalesce(func.sum(OfflineTally.count), 0),
            func.min(OfflineTally.collected_on),
            func.max(OfflineTally.collected_on),
        ).where(OfflineTally.action_id == action.id, OfflineTally.removed_at.is_(None))
    ).one()
    days = [
        d
        for d in (
            _day(first),
            _day(last),
            paper_first,
            paper_last,
            tallies[1],
            tallies[2],
        )
        if d is not None
    ]
    # The action's own words in the language being written (the caller's in_language).
    return Cover(
        organisation=_organisation(),
        campaign=localised(action.campaign, "title"),
        title=localised(action, "title"),
        text=markdown_to_plain(localised(action, "text") or ""),
        target=localised(action, "target") or "",
        listed=count_rows(action.id),
        tallied=int(tallies[0] or 0),
        first=min(days) if days else None,
        last=max(days) if days else None,
        grouping=grouping,
    )


def _organisation() -> str:
    """The charity's name as the branding page sets it; ``ORGANISATION_NAME`` until then."""
    brand = branding.current()
    if brand.org_name != DEFAULT_NAME:
        return brand.org_name
    return str(current_app.config.get("ORGANISATION_NAME") or DEFAULT_NAME)


def _day(value: Any) -> date | None:
    moment = as_utc(value) if value is not None else None
    return moment.date() if moment else None


# --- drawing ---------------------------------------------------------------------------------


def _long_date(value: date | None) -> str:
    # "5 December 2026", "5 Rhagfyr 2026": the day, the month's name and the year, in the
    # language being written.
    return str(format_date(value, "d MMMM y")) if value else "—"


def _number(value: int) -> str:
    return str(format_decimal(value))


class HandinWriter:
    """Draws the cover, then signatures one by one into three columns per landscape page."""

    def __init__(self, path: Path, cover: Cover) -> None:
        register_fonts()
        self.cover = cover
        # Row numbers are drawn per signature: the language's grouping mark, looked up once.
        self.group_mark = get_group_symbol(get_locale() or "en")
        self.canvas = Canvas(str(path), pagesize=(PAGE_W, PAGE_H), pageCompression=1)
        total = cover.listed + cover.tallied
        self.canvas.setTitle(gettext("%(title)s — hand-in", title=cover.title))
        self.canvas.setAuthor(cover.organisation)
        self.canvas.setSubject(
            ngettext("%(count)s signature", "%(count)s signatures", total, count=_number(total))
        )
        self.page = 0
        self.band = BANDS  # no signature page open yet
        self.y = 0.0
        self.number = 0

    # cover -------------------------------------------------------------------------------

    def draw_cover(self) -> None:
        c, cover = self.canvas, self.cover
        styles = {
            "org": ParagraphStyle("org", fontName=FONT_BOLD, fontSize=12, leading=16),
            "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=24, leading=29),
            "body": ParagraphStyle("body", fontName=FONT, fontSize=11, leading=15, spaceAfter=6),
            "big": ParagraphStyle("big", fontName=FONT_BOLD, fontSize=16, leading=21),
        }
        total = cover.listed + cover.tallied
        story: list[Any] = [
            Paragraph(escape(f"{cover.organisation} · {cover.campaign}"), styles["org"]),
            Paragraph(escape(cover.title), styles["title"]),
        ]
        if cover.target:
            to = gettext("To: %(target)s", target=cover.target)
            story.append(Paragraph(escape(to), styles["big"]))
        confirmed = ngettext(
            "%(count)s confirmed signature",
            "%(count)s confirmed signatures",
            total,
            count=_number(total),
        )
        story.append(Paragraph(escape(confirmed), styles["big"]))
        dates = gettext(
            "Signed from %(first)s to %(last)s.",
            first=_long_date(cover.first),
            last=_long_date(cover.last),
        )
        story.append(Paragraph(escape(dates), styles["body"]))
        if cover.tallied:
            counted = ngettext(
                "%(listed)s are listed by name in this document; a further %(count)s was "
                "collected off-line and is counted, not listed.",
                "%(listed)s are listed by name in this document; a further %(count)s were "
                "collected off-line and are counted, not listed.",
                cover.tallied,
                listed=_number(cover.listed),
                count=_number(cover.tallied),
            )
            story.append(Paragraph(escape(counted), styles["body"]))
        if cover.grouping:
            grouped = gettext("%(grouping)s.", grouping=gettext(GROUPINGS[cover.grouping]))
            story.append(Paragraph(escape(grouped), styles["body"]))
        for paragraph in (cover.text or "").split("\n"):
            if paragraph.strip():
                story.append(Paragraph(escape(paragraph), styles["body"]))
        # A long petition text continues on further pages rather than being cut off.
        while story:
            self.page += 1
            frame = Frame(MARGIN, MARGIN, PAGE_W - 2 * MARGIN, PAGE_H - 2 * MARGIN, showBoundary=0)
            before = len(story)
            frame.addFromList(story, c)
            self._footer()
            c.showPage()
            if len(story) == before:  # a paragraph taller than a page: give up on it
                story.pop(0)

    # signature pages ---------------------------------------------------------------------

    def _footer(self) -> None:
        c = self.canvas
        c.setFont(FONT, 8)
        c.drawString(MARGIN, MARGIN - 4, f"{self.cover.title} — {self.cover.organisation}")
        page = gettext("Page %(num)s", num=_number(self.page))
        c.drawRightString(PAGE_W - MARGIN, MARGIN - 4, page)

    def _new_page(self) -> None:
        if self.page and self.band < BANDS:
            self._footer()
            self.canvas.showPage()
        self.page += 1
        c = self.canvas
        c.setFont(FONT_BOLD, 11)
        heading = gettext("%(title)s: signatures", title=self.cover.title)
        c.drawString(MARGIN, PAGE_H - MARGIN - 8, heading)
        c.setFont(FONT, 8)
        number, name, area = (
            pgettext("hand-in column", "No."),
            pgettext("hand-in column", "Name"),
            pgettext("hand-in column", "Area"),
        )
        for band in range(BANDS):
            x = MARGIN + band * (BAND_W + GUTTER)
            c.drawString(x, PAGE_H - MARGIN - 26, number)
            c.drawString(x + NUM_W, PAGE_H - MARGIN - 26, name)
            c.drawRightString(x + BAND_W, PAGE_H - MARGIN - 26, area)
        c.line(MARGIN, PAGE_H - MARGIN - 30, PAGE_W - MARGIN, PAGE_H - MARGIN - 30)
        self.band = 0
        self.y = TOP

    def _room(self, height: float) -> None:
        """Move to the next column (or page) unless ``height`` fits in this one."""
        if self.band < BANDS and self.y - height >= BOTTOM:
            return
        if self.band < BANDS - 1:
            self.band += 1
            self.y = TOP
            return
        self._new_page()

    def group(self, place: str, count: int) -> None:
        # The heading and at least one signature stay together.
        self._room(HEAD_H + LEADING + ROW_GAP)
        x = MARGIN + self.band * (BAND_W + GUTTER)
        self.canvas.setFont(FONT_BOLD, HEAD_SIZE)
        label = place or pgettext("hand-in place", "Unknown")
        heading = ngettext(
            "%(place)s — %(count)s signature",
            "%(place)s — %(count)s signatures",
            count,
            place=label,
            count=_number(count),
        )
        self.canvas.drawString(x, self.y - HEAD_SIZE, heading)
        self.y -= HEAD_H

    def signature(self, name: str, place: str, paper: bool) -> None:
        lines = simpleSplit(name or "—", FONT, SIZE, NAME_W)[:4] or ["—"]
        height = len(lines) * LEADING + ROW_GAP
        self._room(height)
        self.number += 1
        c = self.canvas
        x = MARGIN + self.band * (BAND_W + GUTTER)
        baseline = self.y - SIZE
        c.setFont(FONT, SIZE)
        number = f"{self.number:,}".replace(",", self.group_mark)
        c.drawString(x, baseline, number + ("*" if paper else ""))
        for i, line in enumerate(lines):
            c.drawString(x + NUM_W, baseline - i * LEADING, line)
        c.drawRightString(x + BAND_W, baseline, place or "")
        self.y -= height

    def finish(self) -> None:
        if self.band < BANDS:
            c = self.canvas
            c.setFont(FONT, 8)
            note = gettext("* signed on paper") if self.number else gettext("No signatures yet.")
            c.drawString(MARGIN, BOTTOM - 12, note)
            self._footer()
            c.showPage()
        self.canvas.save()


def write_handin(
    action: Action,
    path: Path,
    rows: Iterable[Any],
    *,
    grouping: str = "",
    groups: dict[str, int] | None = None,
    cover: Cover | None = None,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """Write the whole PDF to ``path`` from ``rows`` (name, place, paper). Returns the rows."""
    writer = HandinWriter(path, cover or cover_for(action, grouping))
    writer.draw_cover()
    writer._new_page()
    current: str | None = None
    done = 0
    for row in rows:
        if grouping and row.place != current:
            current = row.place
            writer.group(str(current or ""), (groups or {}).get(str(current), 0))
        writer.signature(row.name, str(row.place or ""), bool(row.paper))
        done += 1
        if on_row is not None:
            on_row(done)
    writer.finish()
    return done
