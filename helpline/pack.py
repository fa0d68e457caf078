"""The helpline pack: what differs between helplines is data (issue 23).

Minimal until the pack loader lands: the numbers and the brand of the Albanian helpline. Every
caller reads them through ``numbers()`` at the time it needs them (``pack.numbers()``, not a copy
taken at import), so the loader can put the active pack's behind the same function (ADR 0038).
"""

from __future__ import annotations


def numbers() -> dict[str, str]:
    """The placeholders that numbers and names reach strings as: ``%(helpline)s``, ``%(emergency)s``,
    ``%(police)s`` and ``%(brand)s``, never translated."""
    return {"helpline": "116 111", "emergency": "112", "police": "129", "brand": "ALO 116 111"}


def tel(number: str) -> str:
    """A number as a ``tel:`` link's target: "116 111" -> "tel:116111"."""
    return "tel:" + "".join(number.split())
