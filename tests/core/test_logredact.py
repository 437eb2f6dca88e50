"""Log redaction covers Unicode addresses (issue 11, finding 1)."""

import pytest

from petitions.core import logredact
from petitions.core.logredact import redact


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org",
        "zoë@example.org",
        "josé@exämple.de",
        "straße@example.de",
        "ｊｏｈｎ@example.org",
        "jоhn@example.org",  # Cyrillic о
        "ada＠example．org",
    ],
)
def test_unicode_addresses_are_redacted(address: str) -> None:
    text = redact(f"sending to {address} failed")
    assert text == "sending to [email] failed"


def _every_pattern(text: str) -> str:
    """``redact`` without its quick checks: every pattern run over every text, in order."""
    text = logredact.EMAIL.sub("[email]", text)
    text = logredact.LINK_TOKEN.sub(lambda m: m.group(1) + "[token]", text)
    text = logredact.TOKEN_IN_QUERY.sub(lambda m: m.group(1) + "[token]", text)
    text = logredact.SIGNED_TOKEN.sub("[token]", text)
    text = logredact.TOKEN_IN_PATH.sub(lambda m: m.group(1) + "[token]", text)
    text = logredact.IPV6.sub(logredact._ipv6, text)
    text = logredact.IPV4.sub("[ip]", text)
    return logredact.LONG_TOKEN.sub(logredact._long_token, text)


_TOKEN = "Zk3_9dQx-LmP0aBcDeFgHiJkLmNoPqRsTuVwXyZ012"


@pytest.mark.parametrize(
    "line",
    [
        f'10.1.2.3 - "GET /confirm/{_TOKEN} HTTP/1.1" 200 0.5',
        '10.1.2.3 - "GET /CONFİRM/short HTTP/1.1" 404',  # İ folds to i under re.I
        '"GET /u/abc HTTP/1.1" from fe80::1 and 2001:db8:0:0:0:0:0:1',
        "/\u212a/" + "K" * 25,  # the Kelvin sign, which [A-Za-z] matches under re.I
        "/c/" + "ſ" * 25 + "/x",
        "mail ann\uff20example.org, ann@example.org",
        f"?p={_TOKEN}&t=abc token=xyz",
        "payload.eyJhbGciOi.AbCdEfGhIjKlMnOpQrStUvWxYz0123",
        "0.1.2 and 1.2.3.4 and ٣.٣.٣.٣",
        "nothing at all",
        "",
        "::",
    ],
)
def test_the_quick_checks_never_skip_what_a_pattern_would_redact(line: str) -> None:
    assert logredact.redact(line) == _every_pattern(line)
