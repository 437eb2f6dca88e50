"""Who commits: only the unit of work, ``jobs.py`` modules (which say they own their
transactions) and operator commands (``cli.py``). Views, services and queries flush.

``NOT_YET_MOVED`` listed the modules that still committed per row or per batch while they were
moved into ``jobs.py`` modules (issue 10); it is empty now and may only stay so: a listed module
that no longer commits fails this test too, so the list stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"petitions/core/unit_of_work.py"}
NOT_YET_MOVED: set[str] = set()  # empty since the outbox, webhooks and exports moved


def _may_commit(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path in ALLOWED or name in ("jobs.py", "cli.py")


def _committers() -> set[str]:
    found = set()
    for package in ("petitions", "workers"):
        for file in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(file.read_text(), filename=str(file))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"
                ):
                    found.add(file.relative_to(ROOT).as_posix())
                    break
    return {path for path in found if not _may_commit(path)}


def test_only_the_unit_of_work_jobs_and_commands_commit() -> None:
    assert _committers() - NOT_YET_MOVED == set()


def test_the_not_yet_moved_list_only_shrinks() -> None:
    assert NOT_YET_MOVED - _committers() == set()
