"""Modules small enough to read in one sitting (DESIGN.md, Layout): no Python module in the shipped
packages over 400 lines and no function over 60, except where an ADR says why. Each exception below
names its ADR; an exception that is no longer needed fails too, so the list only shrinks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# path (or path::function) -> the ADR that says why it may be longer.
ALLOWED: dict[str, str] = {
    "helpline/models.py": "docs/adr/0024-module-size.md",
}
# Over the limit and not yet split: none. An entry here would name a module to split next (no ADR
# excuses it); the test fails if anything else goes over.
NOT_YET_SPLIT: set[str] = set()


def shipped_packages() -> list[str]:
    """The packages pyproject ships (setuptools include), so a new top-level package is measured too."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r"\[tool\.setuptools\.packages\.find\]\s*include\s*=\s*\[([^\]]*)\]", text)
    assert found, "pyproject.toml names no shipped packages"
    return [name.strip().strip('"').rstrip("*") for name in found.group(1).split(",") if name.strip()]


def measured() -> dict[str, int]:
    sizes: dict[str, int] = {}
    for package in shipped_packages():
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            source = path.read_text(encoding="utf-8")
            sizes[name] = len(source.splitlines())
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    assert node.end_lineno is not None
                    sizes[f"{name}::{node.name}"] = node.end_lineno - node.lineno + 1
    return sizes


def too_long(sizes: dict[str, int]) -> dict[str, int]:
    return {name: lines for name, lines in sizes.items()
            if lines > (MAX_FUNCTION_LINES if "::" in name else MAX_MODULE_LINES)}


def test_no_module_or_function_is_over_the_limit_without_an_adr() -> None:
    known = set(ALLOWED) | NOT_YET_SPLIT
    over = {name: lines for name, lines in too_long(measured()).items() if name not in known}
    assert not over, f"split these, or name the ADR that says why they may be longer: {over}"


def test_every_exception_is_still_needed_and_names_an_existing_adr() -> None:
    over = set(too_long(measured()))
    assert set(ALLOWED) <= over, f"no longer over the limit: {set(ALLOWED) - over}"
    for adr in set(ALLOWED.values()):
        assert (ROOT / adr).is_file(), adr
