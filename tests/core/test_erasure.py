"""What counts as naming an erased person in someone else's text."""

from __future__ import annotations

from petitions.core.erasure import ERASED_MARK, PersonTraces, blot

TRACES = PersonTraces.of(
    emails=["Ann.Example@Example.org", "not-an-address"],
    names=["Ann  Example", "Sam", ""],
    ip_addresses=["10.0.0.1", "2001:db8::5", None],
)


def test_an_address_a_whole_name_or_an_ip_names_the_person():
    assert TRACES.names_person("duplicate of ann.example@example.org")
    assert TRACES.names_person("same as ANN EXAMPLE, see ticket")
    assert TRACES.names_person("10.0.0.1")
    assert TRACES.names_person("from 10.0.0.1/32")
    assert TRACES.names_person("2001:db8::5")


def test_near_misses_do_not():
    assert not TRACES.names_person("10.0.0.12")  # another address
    assert not TRACES.names_person("110.0.0.1")
    assert not TRACES.names_person("2001:db8::51")
    assert not TRACES.names_person("Sam signed twice")  # a one-word name identifies nobody
    assert not TRACES.names_person("not-an-address")
    assert not TRACES.names_person("")


def test_blot_replaces_only_the_strings_that_name_them_in_nested_json():
    value = {"n": 3, "why": "ann example again", "list": ["10.0.0.1", "10.0.0.2", 7], "ok": None}
    blotted, changed = blot(value, TRACES)
    assert changed
    assert blotted == {"n": 3, "why": ERASED_MARK, "list": [ERASED_MARK, "10.0.0.2", 7], "ok": None}
    assert blot({"rows": 2}, TRACES) == ({"rows": 2}, False)


def test_no_traces_is_falsy():
    assert not PersonTraces.of()
    assert TRACES
