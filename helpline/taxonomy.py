"""The contact taxonomy (Child Helpline International's framework, with local additions) as data.

The helpline pack's taxonomy.json (packs/al/taxonomy.json ships) is versioned; each case record keeps
the version it used. Labels are English msgids, translated through the console catalog; the pre-chat's
``child_label``s (topics, age bands) through the child catalog (the Babel extractors below read them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from helpline import pack
from helpline.i18n import translate

LISTS = ("contact_types", "risk_levels", "outcomes", "age_bands", "genders", "channels", "contact_by")


@dataclass(frozen=True)
class Taxonomy:
    version: str
    data: dict[str, Any]

    @functools.cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(c["code"] for c in self.data["categories"])

    @functools.cached_property
    def subcategories(self) -> frozenset[str]:
        return frozenset(s["code"] for c in self.data["categories"] for s in c["sub"])

    def codes(self, name: str) -> tuple[str, ...]:
        return tuple(item["code"] for item in self.data[name])

    def translated(self, locale: str) -> dict[str, Any]:
        """The whole taxonomy with labels in the staff member's language, for the case form."""
        def label(item: dict[str, Any]) -> dict[str, Any]:
            out = {"code": item["code"], "label": translate(locale, item["label"])}
            if "sub" in item:
                out["sub"] = [label(sub) for sub in item["sub"]]
            return out

        result: dict[str, Any] = {"version": self.version,
                                  "categories": [label(c) for c in self.data["categories"]]}
        for name in LISTS:
            result[name] = [label(item) for item in self.data[name]]
        return result


def load() -> Taxonomy:
    """The active helpline pack's taxonomy."""
    return read(pack.active().taxonomy_file)


@functools.cache
def read(path: Path) -> Taxonomy:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Taxonomy(str(data["version"]), data)


def _labels(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("label"), str):
            yield node["label"]
        for value in node.values():
            yield from _labels(value)
    elif isinstance(node, list):
        for value in node:
            yield from _labels(value)


def extract_labels(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                   options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for the taxonomy file (see locales/console.cfg)."""
    for label in _labels(json.loads(fileobj.read().decode("utf-8"))):
        yield 1, "_", label, []


def extract_child_labels(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                         options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for the pre-chat labels of the taxonomy file (see locales/child.cfg)."""
    data = json.loads(fileobj.read().decode("utf-8"))
    for name in ("topics", "age_bands"):
        for item in data.get(name, []):
            if isinstance(item.get("child_label"), str):
                yield 1, "_", item["child_label"], []
