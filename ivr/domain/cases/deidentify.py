"""De-identification of a case's text (P6(3), P7(3), P12): mask what names a person with ○.

Masking finds, in free text as well as in the structured fields: Taiwan phone numbers
(mobile and landline, with or without +886, separators or brackets), national ID and
resident certificate numbers (A123456789), e-mail addresses, and the caller's own name
and address as the case records them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "○"

_PHONE = re.compile(
    r"(?<![0-9])(?:\+?886[\s-]?|0)(?:9\d{2}[\s-]?\d{3}[\s-]?\d{3}"
    r"|\(?[2-8]\d?\)?[\s-]?\d{3,4}[\s-]?\d{4})(?![0-9])"
)
_NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])[A-Z][1289]\d{8}(?![0-9])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Taiwan addresses name the city and district first; those stay, the rest is masked.
_DISTRICT_END = re.compile(r"^(?:.{1,3}?[市縣])?.{1,4}?[區鄉鎮市](?=.)")


def _blank(text: str) -> str:
    return "".join(ch if ch in " -()" else MASK for ch in text)


def mask_name(name: str) -> str:
    """王小明 → 王○明, 王明 → 王○: the surname stays, as Taipei's masking SOP shows."""
    name = name.strip()
    if len(name) <= 1:
        return MASK * len(name)
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def mask_address(address: str) -> str:
    """Keeps the city and district; masks the road, number and floor."""
    kept = _DISTRICT_END.match(address)
    head = kept.group(0) if kept else ""
    return head + MASK * (len(address) - len(head))


def deidentify(text: str, names: Iterable[str] = (), addresses: Iterable[str] = ()) -> str:
    """`text` with phones, IDs, e-mails and the given names and addresses masked."""
    out = text
    for address in sorted({a for a in addresses if a.strip()}, key=len, reverse=True):
        out = out.replace(address, mask_address(address))
    for name in sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True):
        out = out.replace(name, mask_name(name))
    out = _EMAIL.sub(lambda m: _blank(m.group(0)), out)
    out = _NATIONAL_ID.sub(lambda m: _blank(m.group(0)), out)
    return _PHONE.sub(lambda m: _blank(m.group(0)), out)
