"""Pages the hot path serves from a short-lived copy: the thank-you page and the public count.

The copy is *learned*: the first request for a page (per host, scheme, conditional headers and
session shape) goes to the Flask app as usual, and its answer is kept for a few seconds if it
is safe to give to the next visitor: a 200 (or the count's 304), no cookie set, nothing in it
that belongs to one session (a CSRF token), and the app stored nothing while answering (a
donation ask records each view of it: such a page is never copied). Until it expires, the
same request is answered with those bytes and headers, with a fresh CSP nonce in place of
the one it was rendered with. So the page is the app's own, at most ``ttl`` seconds old:

* the thank-you page (``/c/<campaign>/<action>/thanks``): ``HOTPATH_PAGE_SECONDS`` (5 s);
* the count (``/api/v1/campaigns/<campaign>/actions/<action>/count``): ``API_COUNT_CACHE_SECONDS``
  (1 s), the count's own cache, which it then seldom reaches.

A request that differs in anything the answer could depend on (a query string, a Range, a
signed-in or flashed session, another host) is never answered from another's copy.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from petitions.core.web import new_csp_nonce
from petitions.hotpath.wsgi import read_session

_MAX_ENTRIES = 2048
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9_-]{16,64})'")
# Headers a GET's answer may depend on; requests carrying the others are left to the app.
_KEYED_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_ORIGIN")
_UNCACHED_HEADERS = ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
# In a page, this means it belongs to one visitor.
_PRIVATE_MARKERS = (b"csrf_token",)
# Set while the app answers a request being learned: did its unit of work write anything?
_WROTE: ContextVar[list[bool] | None] = ContextVar("hotpath_learning_wrote", default=None)


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, flush_context: Any) -> None:
    wrote = _WROTE.get()
    if wrote is not None:
        wrote.append(True)


@dataclass(frozen=True)
class Copy:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    nonce: bytes  # b"" when the answer has none
    wrote: bool  # the app stored something while answering (a donation ask's view, ...)


class PageCache:
    """Learned answers to GET requests, each kept ``ttl`` seconds."""

    def __init__(self, ttl: Callable[[Flask], float], private_markers: bool) -> None:
        self._ttl = ttl
        self._private_markers = private_markers
        self._entries: dict[tuple[Any, ...], tuple[float, Copy]] = {}
        self._lock = threading.Lock()
        self.hits = 0  # answers given from a copy (for tests and logs)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def serve(
        self,
        app: Flask,
        wrapped: Callable[..., Any],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Any:
        key = _key(app, environ)
        ttl = self._ttl(app)
        if key is None or ttl <= 0:
            return wrapped(environ, start_response)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < ttl:
            self.hits += 1
            return replay(entry[1], start_response)
        copy = _learn(wrapped, environ)
        if self._keepable(copy):
            with self._lock:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now, copy)
        start_response(copy.status, list(copy.headers))
        return [copy.body]

    def _keepable(self, copy: Copy) -> bool:
        code = copy.status.split(" ", 1)[0]
        if code not in ("200", "304") or copy.wrote:
            return False
        if any(name.lower() == "set-cookie" for name, _ in copy.headers):
            return False
        if self._private_markers and any(m in copy.body for m in _PRIVATE_MARKERS):
            return False
        # A nonce is replaced wherever it appears: it must be the only random part.
        return not copy.nonce or copy.body.count(copy.nonce) == _script_nonces(copy.body)


def _script_nonces(body: bytes) -> int:
    return body.count(b'nonce="')


def _key(app: Flask, environ: dict[str, Any]) -> tuple[Any, ...] | None:
    """What the answer may depend on, or None when the request is not a plain GET."""
    if environ.get("QUERY_STRING") or any(environ.get(h) for h in _UNCACHED_HEADERS):
        return None
    session_shape: tuple[Any, ...] = ()
    if environ.get("HTTP_COOKIE"):
        session = read_session(app, environ)
        if session is None:
            return None  # a cookie the app would not read: let it answer
        if not session.keys() <= {"csrf_token", "_fresh"}:
            return None  # signed in, a flash to show, ...: this visitor's own page
        session_shape = (tuple(sorted(session)), session.get("_fresh"))
    return (
        environ.get("PATH_INFO"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST") or environ.get("SERVER_NAME"),
        *(environ.get(h) for h in _KEYED_HEADERS),
        session_shape,
    )


def _learn(wrapped: Callable[..., Any], environ: dict[str, Any]) -> Copy:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    wrote: list[bool] = []
    token = _WROTE.set(wrote)
    try:
        result = wrapped(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    finally:
        _WROTE.reset(token)
    headers = tuple(seen["headers"])
    nonce = b""
    for name, value in headers:
        if name == "Content-Security-Policy":
            match = _NONCE.search(value.encode("latin-1"))
            nonce = match.group(1) if match else b""
    return Copy(seen["status"], headers, body, nonce, bool(wrote))


def replay(copy: Copy, start_response: Callable[..., Any]) -> list[bytes]:
    if not copy.nonce:
        start_response(copy.status, list(copy.headers))
        return [copy.body]
    fresh = new_csp_nonce()
    old = copy.nonce.decode("ascii")
    headers = [
        (name, value.replace(old, fresh) if name == "Content-Security-Policy" else value)
        for name, value in copy.headers
    ]
    body = copy.body.replace(copy.nonce, fresh.encode("ascii"))
    if len(fresh) != len(old):  # never, for nonces made by one function; but be exact
        headers = [(n, str(len(body)) if n == "Content-Length" else v) for n, v in headers]
    start_response(copy.status, headers)
    return [body]
