"""Fills Albanian (or any locale's) translations into a catalog from a JSON file of {msgid: msgstr}.

    python locales/tools/fill.py console sq my-strings.json
    python locales/tools/fill.py console sq --missing     # lists what is still untranslated

Run `make extract` first so the msgids are in the catalog. Existing translations are replaced
only when the JSON gives a new one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    domain, locale, source = argv[0], argv[1], argv[2]
    path = ROOT / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    if source == "--missing":
        for message in catalog:
            if message.id and (not message.string or message.fuzzy):
                print(json.dumps(message.id, ensure_ascii=False))
        return 0
    wanted = json.loads(Path(source).read_text(encoding="utf-8"))
    unknown = [msgid for msgid in wanted if msgid not in catalog]
    for msgid, text in wanted.items():
        if msgid in catalog:
            message = catalog[msgid]
            message.string = text
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for msgid in unknown:
        print(f"not in the catalog (run make extract?): {msgid}", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
