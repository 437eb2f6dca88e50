"""What an erased person leaves in other people's records, and how it is blotted out.

Erasure anonymises a person's own rows; other areas also keep text an organiser typed or a
worker derived that can name them: an audit entry's reason ("duplicate of alice@…"), bulk
invalidation criteria (an IP, a name), a trending alert about their IP. ``PersonTraces`` is
what the supporters area collected before it blanked the rows, sent with ``person_erased``;
``blot`` replaces any text that names the person by ``ERASED_MARK``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ERASED_MARK = "[erased]"
# An address only where it stands alone: 10.0.0.1 is not inside 10.0.0.12.
_IP_AROUND = r"(?<![0-9A-Fa-f:.]){}(?![0-9A-Fa-f:.])"


def _folded(value: str) -> str:
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class PersonTraces:
    emails: frozenset[str] = frozenset()  # as typed and normalised, folded
    names: frozenset[str] = frozenset()  # whole names, folded
    ip_addresses: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, emails: Any = (), names: Any = (), ip_addresses: Any = ()) -> PersonTraces:
        return cls(
            emails=frozenset(_folded(e) for e in emails if e and "@" in e),
            # One-word names ("Sam") would blot unrelated text; a whole name of two words or
            # more is what identifies someone in a reason or a pattern.
            names=frozenset(_folded(n) for n in names if n and len(_folded(n).split()) >= 2),
            ip_addresses=frozenset(ip for ip in ip_addresses if ip),
        )

    def __bool__(self) -> bool:
        return bool(self.emails or self.names or self.ip_addresses)

    def names_person(self, text: str) -> bool:
        folded = _folded(text)
        if not folded:
            return False
        if any(email in folded for email in self.emails):
            return True
        if any(name in folded for name in self.names):
            return True
        return any(re.search(_IP_AROUND.format(re.escape(ip)), text) for ip in self.ip_addresses)


def blot(value: Any, traces: PersonTraces) -> tuple[Any, bool]:
    """``value`` with every string that names the person replaced (recursing into JSON lists
    and objects), and whether anything changed."""
    if isinstance(value, str):
        return (ERASED_MARK, True) if traces.names_person(value) else (value, False)
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], item_changed = blot(item, traces)
            changed = changed or item_changed
        return out, changed
    if isinstance(value, list):
        items = [blot(item, traces) for item in value]
        return [item for item, _ in items], any(flag for _, flag in items)
    return value, False
