"""Plural forms in the page by CLDR's rules (ADR 0039): the bundles' plural.js reads the rule the server
sends (no eval under the CSP) and picks the same form as Python's gettext for every n."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from helpline import i18n
from tests.support import ServerProcess, Stack
from tests.unit.test_plurals import FORMS, MESSAGES, compile_serbian

LANGUAGES = ("sr_Latn", "sq", "en", "ar", "he", "pl", "ru", "cy", "ga", "lt", "sl", "mk", "fr", "it", "ro")


@pytest.fixture
def serbian(tmp_path: Path) -> Iterator[None]:
    i18n.configure(["sq", "sr_Latn", "en"], "sq", catalogs=[compile_serbian(tmp_path)])
    try:
        yield
    finally:
        i18n.configure(["sq", "en"], "sq")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_pages_pick_serbian_forms_like_python(stack: Stack, server: ServerProcess, browser: Browser,
                                                  serbian: None) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    counts = list(FORMS)
    # The console's and the portal's bundles: _n of l10n.js with the config the server builds for sr_Latn.
    config = i18n.js_config("console", "sr_Latn")
    for path in ("/console", "/referrals"):
        page.goto(server.url + path)
        said = page.evaluate("([c, ns]) => { const _n = HelplineL10n.ngettext(c); return ns.map("
                             "n => _n('{count} new message', '{count} new messages', n)); }", [config, counts])
        assert said == [MESSAGES[FORMS[n]].replace("{count}", str(n)) for n in counts], path
    # The child's bundle: its plural.js, with the child page's config for sr_Latn.
    from child_ui.web import child_js_config

    child = child_js_config("sr_Latn")
    page.goto(server.url + "/")
    said = page.evaluate("([c, ns]) => { const f = HelplinePlural.translator(c); return ns.map("
                         "n => f('Expected wait: about {n} minute', 'Expected wait: about {n} minutes', n)); }",
                         [child, [1, 2, 5]])
    assert said == ["Čekanje: oko {n} minut", "Čekanje: oko {n} minuta", "Čekanje: oko {n} minuta"]
    # Every rule CLDR gives (Arabic's six forms, Welsh, Irish…) reads in the page as gettext reads it in Python.
    for code in LANGUAGES:
        _count, expr = i18n.plural_forms(code)
        python = [gettext.c2py(expr)(n) for n in range(0, 1000)]
        page_said = page.evaluate("([t]) => Array.from({length: 1000}, (_, n) => HelplinePlural.index(t, n))",
                                  [i18n.plural_config(code)["table"]])
        assert page_said == python, code
    assert errors == []
    context.close()
