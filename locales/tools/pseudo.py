"""Builds the pseudo-locale `qps` from the .pot files (and the English catalog): every string accented,
about 35 % longer and in brackets, so a page in it shows at a glance what never went through the catalogs
and what overflows when a translation runs long (ADR 0039). `make catalogs` runs it; the output is not kept in git.

    python locales/tools/pseudo.py            # writes locales/qps/LC_MESSAGES/{child,console}.{po,mo}

Placeholders (%(name)s, %s, {count}), HTML tags and entities are kept as they are.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CODE = "qps"  # helpline.languages.PSEUDO
DOMAINS = ("child", "console")
# What a translation must keep as it is: printf and brace placeholders, HTML tags and entities.
KEEP = re.compile(r"%\(\w+\)[sdif]|%[sdif%]|\{\w*\}|<[^>]*>|&#?\w+;")
ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ")
FILL = "·"
GROWTH = 0.35


def _filler(length: int) -> str:
    """Words of up to six dots: long enough to show overflow, never one word a line cannot break."""
    dots = max(1, math.ceil(length * GROWTH))
    return " ".join(FILL * min(6, dots - start) for start in range(0, dots, 6))


def pseudo(text: str) -> str:
    """"Send %(count)s <b>now</b>" → "[Šéñð %(count)s <b>ñöŵ</b> ····]"."""
    if not text.strip():
        return text
    parts: list[str] = []
    visible = 0
    last = 0
    for match in KEEP.finditer(text):
        chunk = text[last:match.start()]
        parts.append(chunk.translate(ACCENTED))
        visible += len(chunk)
        parts.append(match.group(0))
        last = match.end()
    parts.append(text[last:].translate(ACCENTED))
    visible += len(text) - last
    body = "".join(parts)
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()):]
    return f"{lead}[{body.strip()} {_filler(visible)}]{trail}"


def _messages(domain: str) -> list[Message]:
    """The template's messages and any the English catalog has beyond it (the tests keep that one complete
    against the sources; a .pot may lag behind)."""
    found: dict[object, Message] = {}
    for path in (ROOT / f"{domain}.pot", ROOT / "en" / "LC_MESSAGES" / f"{domain}.po"):
        if path.exists():
            with path.open("rb") as handle:
                for message in read_po(handle):
                    if message.id:
                        found.setdefault(message.id, message)
    return list(found.values())


def build(domain: str, out_dir: Path) -> Path:
    catalog = Catalog(locale="en", domain=domain, project="Helpline pseudo-locale", fuzzy=False)
    for message in _messages(domain):
        if isinstance(message.id, (tuple, list)):
            catalog.add(tuple(message.id), tuple(pseudo(str(part)) for part in message.id),
                        context=message.context)
        else:
            catalog.add(message.id, pseudo(str(message.id)), context=message.context)
    target = out_dir / CODE / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / f"{domain}.po").open("wb") as handle:
        write_po(handle, catalog, width=0)
    with (target / f"{domain}.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return target / f"{domain}.mo"


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else ROOT
    for domain in DOMAINS:
        print(build(domain, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
