"""Text hygiene shared by every form, and Markdown rendering for organisers' text."""

from __future__ import annotations

import html as _html
import re
import unicodedata
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from slugify import slugify as _slugify

# Bidirectional overrides/isolates and zero-width characters: invisible, and used to disguise
# names and links. Ordinary letters of any script are welcome.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def has_control_chars(value: str, allow_newlines: bool = False) -> bool:
    for char in value:
        if allow_newlines and char in "\r\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return True
    return False


def has_invisible_chars(value: str) -> bool:
    return bool(_INVISIBLE.search(value))


def clean_line(value: str | None) -> str:
    """Trim and collapse inner whitespace of a one-line field."""
    return " ".join((value or "").split())


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "code",
    "pre",
    "hr",
}


@lru_cache(maxsize=512)
def _render(source: str) -> str:
    html = _md.render(source)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(source: str | None) -> Markup:
    """Markdown from organisers, rendered and then sanitised: no raw HTML survives."""
    return Markup(_render(source or ""))  # noqa: S704 - sanitised by nh3 above


@lru_cache(maxsize=512)
def markdown_to_plain(source: str | None) -> str:
    """Markdown as the plain text a reader sees (for summaries, teasers and meta tags).

    ``**stop selling**`` becomes ``stop selling``; links keep their words, not their address.
    The result is plain text: templates escape it like any other string.
    """
    rendered = _md.render(source or "")
    # Block ends become spaces so "para one" and "para two" don't run together.
    rendered = re.sub(r"</(p|li|h[1-6]|blockquote|pre)>|<br\s*/?>", " ", rendered)
    text = _html.unescape(nh3.clean(rendered, tags=set()))
    return " ".join(text.split())


def slugify(value: str, *, max_length: int = 80, fallback: str = "campaign") -> str:
    """A web-address part from a title: ``Émojis & ünïcode`` → ``emojis-unicode``.

    Letters are transliterated to ASCII (python-slugify), so accented titles keep their words.
    """
    return (
        _slugify(value or "", max_length=max_length, word_boundary=True, replacements=[("&", " ")])
        or fallback
    )


def escape_like(value: str) -> str:
    """``value`` as a literal inside a LIKE pattern (use with ``escape="\\"``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
