"""Log redaction covers Unicode addresses (issue 11, finding 1)."""

import pytest

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
