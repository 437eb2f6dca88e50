"""``normalise_email``'s plain-address check against email-validator's own ``validate_email``.

The plain path (``core.emails._plain_address_normalized``) keeps each domain's checks; it must
give ``validate_email``'s normalised address for every address it accepts, accept nothing
``validate_email`` refuses, and leave everything unusual to it.
"""

from __future__ import annotations

import random

import email_validator
import pytest
from email_validator import EmailNotValidError, validate_email

from petitions.core import emails
from petitions.core.emails import EmailError, _plain_address_normalized, normalise_email

LONG_LOCAL = "a" * 64
LONG_LABEL = "b" * 63

CORPUS = [
    # ordinary
    "ann@example.org",
    "Ann.Smith+news@Gmail.COM",
    "visitor1x9f8e7d6c@gmail.com",
    "a@b.co",
    "first.last@sub.domain.example.co.uk",
    "o'brien@example.ie",
    "x_y-z=1?^`{|}~!#$%&*/@example.org",
    # RFC 2142 mailbox names, lower-cased by validate_email
    "Postmaster@example.org",
    "ABUSE@example.org",
    "Hostmaster@Example.org",
    # dots and empties
    ".ann@example.org",
    "ann.@example.org",
    "an..n@example.org",
    "@example.org",
    "ann@",
    "ann",
    "ann@@example.org",
    "ann@exa@mple.org",
    # domains
    "ann@example",
    "ann@localhost",
    "ann@printer.local",
    "ann@site.test",
    "ann@x.invalid",
    "ann@hidden.onion",
    "ann@1.in-addr.arpa",
    "ann@example.123",
    "ann@example.org.",
    "ann@.example.org",
    "ann@exa..mple.org",
    "ann@-example.org",
    "ann@example-.org",
    "ann@ab--cd.example",
    "ann@xn--bcher-kva.example",
    "ann@XN--BCHER-KVA.example",
    "ann@xn--zz.example",
    "ann@xn--.example",
    "ann@exa_mple.org",
    "ann@exa mple.org",
    "ann@[192.0.2.1]",
    "ann@[IPv6:2001:db8::1]",
    "ann@192.0.2.1",
    f"ann@{LONG_LABEL}.example",
    f"ann@{LONG_LABEL}b.example",
    "ann@" + ".".join([LONG_LABEL] * 4) + ".org",
    "ann@" + ".".join(["c" * 60] * 4) + ".org",
    # lengths
    f"{LONG_LOCAL}@example.org",
    f"{LONG_LOCAL}a@example.org",
    f"{LONG_LOCAL}@" + ".".join(["d" * 61] * 3) + ".org",
    f"{LONG_LOCAL}@" + ".".join(["d" * 60] * 3) + ".orgs",
    # quoting, display names, brackets, spaces and controls
    '"ann"@example.org',
    '"ann smith"@example.org',
    '"a@b"@example.org',
    "Ann Smith <ann@example.org>",
    "<ann@example.org>",
    "ann@example.org>",
    "ann smith@example.org",
    "ann\t@example.org",
    "ann@example.org\n",
    "ann\x00@example.org",
    "ann\\@example.org",
    "ann(comment)@example.org",
    "ann@exam,ple.org",
    "ann;@example.org",
    # Unicode and IDNA
    "zoë@example.org",
    "Zoë@Example.org",
    "ann@bücher.example",
    "ann@Bücher.example",
    "ann@BÜCHER.example",
    "ann@mañana.com",
    "ann@例え.テスト",
    "ann@例え.jp",
    "ann@ex\u0301ample.org",
    "ann@\u0301example.org",
    "ann\u0301@example.org",
    "ann＠example.org",
    "ann﹫example.org",
    "ann@example．org",
    "ann@ｅxample.org",
    "ann@exam\u200bple.org",
    "ann\u200b@example.org",
    "ann@ß.example",
    "ann@faß.de",
    "ann@straße.de",
    "ann@i\u0307.example",
    "ann@ⅷ.example",
    "ann@٣.example",
    "ann@a٣b.example",
    "ann@\u0644\u0627.example",
    "анна@пример.рф",
    "ann@пример.рф",
    "ann@xn--e1afmkfd.xn--p1ai",
    "ann@" + "ü" * 63 + ".example",
    "ann@" + "ü" * 64 + ".example",
    f"{LONG_LOCAL}@bücher.example",
]


def _random_addresses(count: int) -> list[str]:
    """Addresses built from pieces that are each sometimes wrong (a fixed seed)."""
    rng = random.Random(1414)
    local_chars = "abcXYZ019.+-_'!#$%&*/=?^`{|}~ \"@\\(),:;<>[]é\u0301\u200b"
    domain_chars = "abcXYZ019.-_ [ ]:üß\u0301．"
    tlds = ["org", "com", "co.uk", "local", "test", "123", "", "xn--p1ai", "jp", "de"]
    out = []
    for _ in range(count):
        local = "".join(rng.choice(local_chars) for _ in range(rng.randint(0, 8)))
        if rng.random() < 0.5:
            local = rng.choice(["ann", "Bob.Jones", "x+tag", "POSTMASTER", "a" * 64, "a" * 65])
        labels = [
            "".join(rng.choice(domain_chars) for _ in range(rng.randint(0, 6)))
            if rng.random() < 0.4
            else rng.choice(["example", "gmail", "b" * 63, "b" * 64, "bücher", "xn--bcher-kva"])
            for _ in range(rng.randint(1, 3))
        ]
        tld = rng.choice(tlds)
        domain = ".".join(labels + ([tld] if tld else []))
        out.append(f"{local}@{domain}" if rng.random() < 0.95 else local + domain)
    return out


def _plain(value: str) -> bool:
    local, _, domain = value.partition("@")
    return (
        value.isascii()
        and value.count("@") == 1
        and not any(c in value for c in '"<')
        and not domain.startswith("[")
    )


def _reference(value: str, smtputf8: bool) -> str | None:
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=smtputf8).normalized
    except EmailNotValidError:
        return None


@pytest.mark.parametrize("smtputf8", [False, True])
def test_the_plain_path_gives_validate_emails_answer_or_none(smtputf8: bool) -> None:
    taken = 0
    for value in CORPUS + _random_addresses(3000):
        for attempt in range(2):  # the second time with the domain's checks kept
            plain = _plain_address_normalized(value, smtputf8)
            expected = _reference(value, smtputf8)
            if plain is not None:
                taken += attempt
                assert plain == expected, (value, attempt)
            elif _plain(value):  # a plain address is left to validate_email only when it refuses it
                assert expected is None, value
    assert taken > 100  # the plain path is taken, not merely refused


@pytest.mark.parametrize("value", CORPUS)
def test_normalise_email_is_unchanged(app, value: str) -> None:
    """The whole rule — our length and local-part checks, then email-validator, lower-cased —
    as it was before domains were kept."""
    for smtputf8 in (False, True):
        app.config["MAIL_SMTPUTF8"] = smtputf8
        try:
            with app.app_context():
                for _ in range(2):
                    try:
                        got: str | None = normalise_email(value)
                    except EmailError:
                        got = None
                    stripped = value.strip()
                    ok = bool(stripped) and len(stripped) <= 254
                    if not smtputf8 and not stripped.rpartition("@")[0].isascii():
                        ok = False
                    expected = _reference(stripped, smtputf8) if ok else None
                    assert got == (expected.lower() if expected else None), (value, smtputf8)
        finally:
            app.config["MAIL_SMTPUTF8"] = False


def test_kept_domains_follow_email_validators_settings(monkeypatch) -> None:
    assert _plain_address_normalized("ann@site.test", False) is None
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)
    assert _plain_address_normalized("ann@site.test", False) == _reference("ann@site.test", False)
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", False)
    assert _plain_address_normalized("ann@site.test", False) is None


def test_kept_domains_stay_bounded(monkeypatch) -> None:
    monkeypatch.setattr(emails, "_MAX_DOMAINS", 8)
    for n in range(50):
        assert _plain_address_normalized(f"ann@d{n}.example", False) == f"ann@d{n}.example"
    assert len(emails._domains) <= 8
