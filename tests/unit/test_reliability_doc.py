"""docs/reliability.md names real tests: every `tests/…::name` (and `::name` after it) exists."""

from __future__ import annotations

import re

from tests.support import ROOT


def named_tests() -> list[tuple[str, str]]:
    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    found = []
    for line in doc.splitlines():
        if not line.startswith("|"):
            continue
        current = None
        for match in re.finditer(r"(tests/[\w/]+\.py)?::(\w+)", line):
            current = match.group(1) or current
            assert current, f"'::{match.group(2)}' without a file before it: {line}"
            found.append((current, match.group(2)))
    return found


def test_every_test_named_in_docs_reliability_exists() -> None:
    named = named_tests()
    assert len(named) >= 30
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{path}::{name} does not exist"
