"""The pseudo-locale tool (locales/tools/pseudo.py): accented, longer, bracketed, placeholders kept."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from babel.support import Translations

from tests.support import ROOT


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pseudo", ROOT / "locales" / "tools" / "pseudo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_text_is_accented_longer_and_bracketed_with_placeholders_kept() -> None:
    pseudo = tool().pseudo
    said = pseudo("Call %(helpline)s, free, {when}: <a href=\"/help\">read more</a> &amp; stay")
    assert said.startswith("[") and said.endswith("]")
    for kept in ("%(helpline)s", "{when}", '<a href="/help">', "</a>", "&amp;"):
        assert kept in said
    outside = re.sub(r"%\(\w+\)s|\{\w+\}|<[^>]*>|&\w+;", "", said)
    assert not re.search(r"[A-Za-z]", outside)
    assert len(said) >= len("Call %(helpline)s, free, {when}: <a href=\"/help\">read more</a> &amp; stay") * 1.2
    assert pseudo("  Sent  ").startswith("  [") and pseudo("") == ""


def test_catalogs_are_built_from_the_templates(tmp_path: Path) -> None:
    for domain in ("child", "console"):
        mo = tool().build(domain, tmp_path)
        with mo.open("rb") as handle:
            catalog = Translations(handle, domain=domain)
        assert catalog.gettext("Quick exit" if domain == "child" else "Sign in").startswith("[")
    catalog = Translations((tmp_path / "qps" / "LC_MESSAGES" / "child.mo").open("rb"))
    one = catalog.ngettext("Expected wait: about {n} minute", "Expected wait: about {n} minutes", 1)
    assert "{n}" in one and "ɱîñûţé " in one
