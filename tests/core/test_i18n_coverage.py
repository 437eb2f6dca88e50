"""Languages (issue 16): every user-facing string is marked for translation.

Reads the templates and the code, not rendered pages: a template's text outside `{{ … }}`
and `{% … %}` (and the attributes a person reads: alt, title, aria-label, placeholder), and
in Python the strings handed to `flash`, to form fields and validators, and to the errors our
services raise for people to read. Any such string with a word in it must come through
`_()`/`_l()`/`ngettext`. What is not a person's text (the developer's mail viewer, the CSS of an
email) is named below with the reason.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PACKAGE = ROOT / "petitions"

# Templates that are not a supporter's or organiser's page, with the reason.
NOT_USER_FACING = {
    "dev/mailbox.html": "the developer's mail viewer (make run only, never in production)",
    "dev/message.html": "the developer's mail viewer (make run only, never in production)",
}

# Not yet marked (issue 16's remaining pages). This list only shrinks: the test fails when a
# template on it has nothing left to mark, so the entry is removed as the work lands.
PENDING: set[str] = set()

# Text that is the same in every language: symbols, and names that are not translated.
_WORD = re.compile(r"[^\W\d_]{2,}")
UNTRANSLATED_WORDS = {
    "WhatsApp",
    "Facebook",
    "Bluesky",
    "Mastodon",
    "LinkedIn",
    "OSDI",
    "CSV",
    "API",
    "URL",
    "ICS",
    "PDF",
    "JSON",
    "HTML",
    "SMTP",
    "ID",
}
READ_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")
PLACEHOLDER = " "


def _has_words(text: str) -> bool:
    return any(word not in UNTRANSLATED_WORDS for word in _WORD.findall(text))


def _template_text(source: str) -> str:
    """The template with every Jinja construct (and everything inside {% trans %}) replaced by
    a placeholder, so what is left is the literal HTML and text a person would read as written."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only lexed, never rendered
    out: list[str] = []
    depth = 0  # inside {% trans %} … {% endtrans %}
    block: list[str] = []
    for _line, kind, value in env.lex(source):
        if kind == "block_begin":
            block = []
        elif kind == "name" and block == []:
            block.append(value)
            if value == "trans":
                depth += 1
            elif value == "endtrans":
                depth -= 1
        elif kind == "data":
            out.append(PLACEHOLDER if depth else value)
            continue
        if kind in ("variable_begin", "block_begin", "comment_begin") and not depth:
            out.append(PLACEHOLDER)
    return "".join(out)


class _Unmarked(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name == "value" and tag == "input")):
                text = value.replace(PLACEHOLDER, " ")
                if name == "value" and ("type", "submit") not in attrs:
                    continue
                if _has_words(text):
                    self.found.append(f'{name}="{text.strip()}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = data.replace(PLACEHOLDER, " ")
        if not self._skip and _has_words(text):
            self.found.append(" ".join(text.split()))


def unmarked_in_template(path: Path) -> list[str]:
    text = _template_text(path.read_text(encoding="utf-8"))
    if path.suffix == ".txt":
        lines = [" ".join(line.replace(PLACEHOLDER, " ").split()) for line in text.splitlines()]
        return [line for line in lines if _has_words(line)]
    parser = _Unmarked()
    parser.feed(text)
    parser.close()
    return parser.found


def _templates() -> list[str]:
    return sorted(
        str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")
    )


def test_every_template_string_is_marked() -> None:
    problems = []
    for name in _templates():
        if name in NOT_USER_FACING or name in PENDING:
            continue
        for text in unmarked_in_template(TEMPLATES / name):
            problems.append(f"{name}: {text[:90]!r}")
    assert problems == [], "mark these with _() (docs/languages.md):\n" + "\n".join(problems)


def test_the_pending_list_only_shrinks() -> None:
    done = [name for name in sorted(PENDING) if not unmarked_in_template(TEMPLATES / name)]
    missing = [name for name in sorted(PENDING) if not (TEMPLATES / name).exists()]
    assert done == [] and missing == [], f"take these off PENDING: {done + missing}"


# --- Python: the strings people read ------------------------------------------------------

# Errors our services raise with a sentence for the person at the form (views show str(e)).
USER_ERRORS = {
    "PostcodeError",
    "AccountError",
    "EventError",
    "LetterError",
    "CriteriaError",
    "BrandingError",
    "QuestionError",
    "OriginsError",
    "ComposeError",
    "OutcomeError",
    "WebhookError",
    "ImageRefused",
    "EmailError",
    "SlugTaken",
    "ValidationError",
    "StopValidation",
}
# Keyword arguments of a WTForms field or validator that a person reads.
READ_KEYWORDS = {"label", "description", "message", "render_kw_placeholder"}
PENDING_MODULES: set[str] = set()


def _is_literal_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_is_literal_text(part) for part in node.values)
    if isinstance(node, ast.BinOp):  # "…" + x, "…" % x
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _is_literal_text(node.func.value)
    return False


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def unmarked_in_module(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        candidates: list[ast.expr] = []
        if name == "flash" or name in USER_ERRORS:
            candidates = node.args[:1]
        elif name.endswith("Field") or name in {"DataRequired", "InputRequired", "Length", "Email"}:
            candidates = node.args[:1] if name.endswith("Field") else []
            candidates += [k.value for k in node.keywords if k.arg in READ_KEYWORDS]
        for arg in candidates:
            if _is_literal_text(arg):
                found.append(f"line {node.lineno}: {name}(…)")
    return found


def _modules() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if "translations" not in p.parts and "static" not in p.parts
    )


def test_every_python_string_people_read_is_marked() -> None:
    problems = []
    for name in _modules():
        if name in PENDING_MODULES:
            continue
        problems += [f"{name} {where}" for where in unmarked_in_module(ROOT / name)]
    assert problems == [], "mark these with _l() or _() (docs/languages.md):\n" + "\n".join(
        problems
    )


def test_the_pending_modules_only_shrink() -> None:
    done = [name for name in sorted(PENDING_MODULES) if not unmarked_in_module(ROOT / name)]
    assert done == [], f"take these off PENDING_MODULES: {done}"


def test_the_scanner_finds_unmarked_text(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<h1>{{ _("Marked") }}</h1><p>Plain words</p><img alt="A picture">'
        "{% trans %}Marked too{% endtrans %}<p>{{ name }} · 42</p>"
        '<input type="submit" value="Send it"><input type="hidden" value="abc def">'
        "<script>var x = 'not text';</script>"
    )
    assert unmarked_in_template(page) == ["Plain words", 'alt="A picture"', 'value="Send it"']
    module = tmp_path / "module.py"
    module.write_text(
        "flash('Saved the campaign.')\nflash(_('Marked.'))\n"
        "name = StringField('Your name', validators=[DataRequired(message=_l('ok'))])\n"
        "raise EventError(f'No place left for {x}')\nraise ValueError('internal words')\n"
    )
    assert unmarked_in_module(module) == [
        "line 1: flash(…)",
        "line 3: StringField(…)",
        "line 4: EventError(…)",
    ]
