"""Any language Babel knows works by configuration alone (issue 23; ADR 0039): Serbian in Latin script
and Arabic (right to left) on the child page, the safety pages, the console and its refusals, over the
real app and database."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from helpline import i18n, pack
from tests.integration.test_stats_e2e import in_process_server
from tests.support import Stack
from tests.unit.test_pack import copy_of_albania, edit
from tests.unit.test_plurals import compile_serbian


@pytest.fixture
def languages(stack: Stack) -> Iterator[None]:
    """Albania's pack, installed in the data folder, speaking Serbian first, then Albanian and Arabic."""
    root = copy_of_albania(stack.data_dir)
    edit(root / "pack.toml", 'languages = ["sq", "en"]', 'languages = ["sr_Latn", "sq", "ar"]')
    edit(root / "pack.toml", 'default_language = "sq"', 'default_language = "sr_Latn"')
    compile_serbian(root / "locales")
    try:
        yield
    finally:
        i18n.use_pack(pack.use(None))


async def test_serbian_first_arabic_right_to_left(stack: Stack, languages: None) -> None:
    async with in_process_server(stack) as url, httpx.AsyncClient(base_url=url) as http:
        start = (await http.get("/")).text  # the first language is the default
        assert '<html lang="sr-Latn" dir="ltr">' in start
        switcher = re.search(r'<p id="switch-lang".*?</p>', start, re.S)
        assert switcher, "no language switcher"
        assert 'href="?lang=sq"' in switcher.group(0) and ">Shqip<" in switcher.group(0)
        assert 'href="?lang=ar"' in switcher.group(0) and 'dir="rtl"' in switcher.group(0)
        assert ">العربية<" in switcher.group(0)
        assert '"lang": "sr_Latn"' in start and '"count": 3' in start  # the config block: CLDR's three forms
        arabic = await http.get("/help/grooming", params={"lang": "ar"})
        assert arabic.status_code == 200 and '<html lang="ar" dir="rtl">' in arabic.text
        english = await http.get("/", params={"lang": "en"})  # not one of this helpline's languages
        assert '<html lang="sr-Latn"' in english.text
        console = (await http.get("/console", params={"lang": "sr_Latn"})).text
        assert "Prijavi se" in console and '<html lang="sr-Latn" dir="ltr">' in console
        assert ">Srpski (latinica)<" in console
        refused = await http.post("/console/api/login/salt", params={"lang": "ar"}, json={},
                                  headers={"origin": url})
        assert refused.status_code == 400
