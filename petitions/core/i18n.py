"""Languages: which one a page is in, and how its address says so.

The language of a request comes, in this order, from

1. the address: ``/cy/…`` is the Welsh version of ``/…`` (each enabled language but the
   default has its prefix). :class:`LanguagePrefix` moves the prefix from ``PATH_INFO`` to
   ``SCRIPT_NAME``, so the routes never see it and every ``url_for`` on that page keeps it:
   a Welsh page links to Welsh pages;
2. the person's choice, remembered in the ``lang`` cookie by the switcher on every page;
3. the browser's ``Accept-Language``;
4. ``DEFAULT_LANGUAGE``.

Strings are marked with Flask-Babel (``_``/``gettext`` in templates, ``lazy_gettext`` in
forms); the catalogues live in ``petitions/translations`` (``make translations``). A
signature records the language it was made in (``Signature.language``) and every email to
that person is rendered in it (:func:`in_language`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel import dates as babel_dates
from flask import Flask, current_app, has_app_context, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
ENVIRON_KEY = "petitions.url_language"
ADDRESS_ONLY_KEY = "petitions.language_from_address_only"
COOKIE = "lang"
FALLBACK = "en"  # outside any app (a script importing a form)
# What a language is called in itself: the switcher offers each in its own words.
NATIVE_NAMES = {"en": "English", "cy": "Cymraeg"}

babel = Babel()


def N_(message: str) -> str:
    """Mark a message for the catalogues where it is defined; translate it where it is used."""
    return message


class LanguagePrefix:
    """WSGI middleware: ``/cy/c/x`` is served as ``/c/x`` with ``SCRIPT_NAME`` ending ``/cy``."""

    def __init__(self, app: Any, prefixed: Iterable[str]) -> None:
        self.app = app
        self.prefixed = frozenset(prefixed)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO") or ""
        head, _, rest = path[1:].partition("/")
        if head in self.prefixed and path.startswith("/" + head):
            environ[ENVIRON_KEY] = head
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + head
            environ["PATH_INFO"] = "/" + rest
        return self.app(environ, start_response)


def speaks_default(environ: dict[str, Any], config: Any) -> bool:
    """Would :func:`select_locale` choose the default language for this raw request? For WSGI
    layers in front of the app (the hot path keeps only default-language pages)."""
    languages = list(config["LANGUAGES"])
    default = config["DEFAULT_LANGUAGE"]
    if len(languages) == 1:
        return True
    if environ.get(ENVIRON_KEY) not in (None, default):
        return False
    path = environ.get("PATH_INFO") or ""
    if any(path == "/" + code or path.startswith("/" + code + "/") for code in languages):
        return False  # a prefix the layer below has not taken off yet
    # Cookie names are not unescaped, so a header without the name has no such cookie.
    if COOKIE in (environ.get("HTTP_COOKIE") or ""):
        chosen = parse_cookie(environ).get(COOKIE)
        if chosen in languages:
            return bool(chosen == default)
    return _accepts_default(environ.get("HTTP_ACCEPT_LANGUAGE"), tuple(languages), default)


_MAX_ACCEPTED = 1024  # browsers send few distinct headers; the cache never grows past this
_accepted: dict[tuple[str | None, tuple[str, ...], str], bool] = {}


def _accepts_default(header: str | None, languages: tuple[str, ...], default: str) -> bool:
    """Whether an ``Accept-Language`` header's best match is the default, kept per header."""
    key = (header, languages, default)
    answer = _accepted.get(key)
    if answer is None:
        accepted = parse_accept_header(header, LanguageAccept)
        answer = (accepted.best_match(languages) or default) == default
        if len(_accepted) >= _MAX_ACCEPTED:
            _accepted.clear()
        _accepted[key] = answer
    return answer


def enabled() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def default_language() -> str:
    return str(current_app.config["DEFAULT_LANGUAGE"])


def select_locale() -> str:
    languages = enabled()
    if not has_request_context():
        return default_language()
    from_url = request.environ.get(ENVIRON_KEY)
    if from_url in languages:
        return str(from_url)
    if request.environ.get(ADDRESS_ONLY_KEY):
        return default_language()
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or default_language()


def language_from_address_only() -> None:
    """For this request, the language is the address's (its prefix) or the default, never the
    visitor's cookie or browser: for a page that sits inside another site (the embed), whose
    language the snippet the organiser pasted decides, like the words around it."""
    request.environ[ADDRESS_ONLY_KEY] = True
    refresh()


def current_language() -> str:
    if not has_app_context():
        return FALLBACK
    locale = get_locale()
    return str(locale.language) if locale is not None else default_language()


def site_root() -> str:
    """``SCRIPT_NAME`` without a language prefix: where the default-language site lives."""
    root = request.script_root
    prefix = request.environ.get(ENVIRON_KEY)
    if prefix and root.endswith("/" + prefix):
        root = root[: -len(prefix) - 1]
    return root


def url_in(language: str, path: str | None = None) -> str:
    """This page (or ``path``, site-relative) in ``language``."""
    query = ""
    if path is None:
        path = quote(request.path)
        query = request.query_string.decode("latin-1")
    prefix = "" if language == default_language() else "/" + language
    return site_root() + prefix + path + ("?" + query if query else "")


def alternates() -> list[dict[str, str]]:
    """For ``hreflang`` links and the switcher: each enabled language's version of this page."""
    path = quote(request.path)
    return [
        {"code": code, "name": NATIVE_NAMES.get(code, code), "href": url_in(code, path)}
        for code in enabled()
    ]


def localised(thing: Any, field: str) -> Any:
    """``thing.field`` in the page's language: the organiser's version in it if they wrote one
    (``thing.translations``), else the default language's."""
    if thing is None:
        return ""
    return translated(thing, field) or getattr(thing, field)


def translated(thing: Any, field: str, language: str | None = None) -> Any:
    """The organiser's own version of ``field`` in ``language`` (the page's by default) kept in
    ``thing.translations``, or ``""`` where none is written (or it is the default language):
    for words kept with another row's, as a letter's subject is with its action's."""
    if language is None:
        if not has_app_context():
            return ""
        language = current_language()
    if language == default_language():
        return ""
    return (getattr(thing, "translations", None) or {}).get(language, {}).get(field) or ""


def missing_translations(thing: Any, fields: Iterable[str]) -> list[str]:
    """The enabled languages in which ``thing`` has none of ``fields`` written: its pages in
    them show the default language's words (organisers are told)."""
    translations = getattr(thing, "translations", None) or {}
    return [
        code
        for code in enabled()
        if code != default_language() and not any(translations.get(code, {}).get(f) for f in fields)
    ]


def zoned(moment: datetime, pattern: str) -> str:
    """A time in its own zone (an event's), written in the page's language: Flask-Babel's own
    filters would move it to the app's zone first."""
    return str(
        babel_dates.format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=get_locale())
    )


def language_prefix() -> str:
    """``/cy`` for a page in Welsh, ``""`` in the default language: for links in emails."""
    language = current_language()
    return "" if language == default_language() else "/" + language


@contextlib.contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """Render what is inside (an email, say) in ``language``, or the default if it is not
    enabled any more."""
    code = language if language in enabled() else default_language()
    with force_locale(code):
        yield


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    prefixed = [code for code in app.config["LANGUAGES"] if code != app.config["DEFAULT_LANGUAGE"]]
    app.wsgi_app = LanguagePrefix(app.wsgi_app, prefixed)  # type: ignore[method-assign]
    app.jinja_env.globals.update(
        current_language=current_language,
        language_alternates=alternates,
        missing_translations=missing_translations,
        language_name=lambda code: NATIVE_NAMES.get(code, code),
    )
    app.jinja_env.filters["localised"] = localised
    app.jinja_env.filters["zoned"] = zoned

    @app.before_request
    def _choose_afresh() -> None:
        # Flask-Babel keeps the locale on ``g``; an app context shared by several requests
        # (a test, a CLI command) must not keep the previous request's language.
        refresh()

    @app.after_request
    def _vary(response: Any) -> Any:
        # Without a prefix the language was negotiated: caches must keep one copy per answer.
        if (
            response.status_code == 200
            and response.mimetype == "text/html"
            and ENVIRON_KEY not in request.environ
            and ADDRESS_ONLY_KEY not in request.environ
        ):
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
