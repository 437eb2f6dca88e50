"""A small postcode and representatives data set for ``flask --app petitions demo``.

The constituency names and codes are real (Westminster, 2024 boundaries); the MPs are
fictitious, with ``example.org`` addresses; the postcodes are demo postcodes chosen so every
path can be tried: one constituency, a postcode split between two, Northern Ireland, and
(anything else) "we couldn't find that postcode". Never use this data for real letters.
"""

from __future__ import annotations

from petitions.extensions import db
from petitions.geo.models import Constituency, PostcodeArea, Representative
from petitions.geo.postcodes import compact, nation_of

CONSTITUENCIES = [
    ("E14001063", "Aldershot"),
    ("E14001064", "Aldridge-Brownhills"),
    ("E14001065", "Altrincham and Sale West"),
    ("W07000081", "Aberafan Maesteg"),
    ("N05000001", "Belfast East"),
]

# (constituency code, name, party, email): fictitious members.
REPRESENTATIVES = [
    ("E14001063", "Alex Rowan MP", "Independent", "alex.rowan.mp@example.org"),
    ("E14001064", "Priya Lal MP", "Independent", "priya.lal.mp@example.org"),
    ("E14001065", "Sam Okafor MP", "Independent", "sam.okafor.mp@example.org"),
    ("W07000081", "Rhian Morgan AS MP", "Independent", "rhian.morgan.mp@example.org"),
    ("N05000001", "Ciaran Boyd MP", "Independent", "ciaran.boyd.mp@example.org"),
]

# Demo postcodes → constituencies. "WA15 0ZZ" is split between two constituencies.
POSTCODES = [
    ("GU11 1AA", "E14001063"),
    ("GU11 1AB", "E14001063"),
    ("WS9 8AA", "E14001064"),
    ("WA15 9AA", "E14001065"),
    ("WA15 0ZZ", "E14001064"),
    ("WA15 0ZZ", "E14001065"),
    ("SA12 7AA", "W07000081"),
    ("BT4 1AA", "N05000001"),
]

DEMO_POSTCODE = "GU11 1AA"  # Alex Rowan MP, who supports the demo amendment (thank-you variant)
DEMO_OTHER_POSTCODE = "WS9 8AA"


def load_demo_geo() -> None:
    """Idempotent: adds whatever of the demo data is missing (never replaces a real load)."""
    for code, name in CONSTITUENCIES:
        if db.session.get(Constituency, code) is None:
            db.session.add(Constituency(code=code, name=name, nation=nation_of(code)))
    db.session.flush()
    for code, name, party, email in REPRESENTATIVES:
        if db.session.get(Representative, code) is None:
            db.session.add(
                Representative(constituency_code=code, name=name, party=party, email=email)
            )
    for postcode, code in POSTCODES:
        key = (compact(postcode), code)
        if db.session.get(PostcodeArea, key) is None:
            db.session.add(PostcodeArea(postcode=key[0], constituency_code=code))
    db.session.flush()
