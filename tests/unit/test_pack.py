"""The helpline pack: the shipped one reads and checks clean; each kind of problem is named with its
file and field; opening hours by weekday and holiday; the pack's catalogs come before the core's."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpline import i18n, pack
from helpline.commands.pack import check_pack, compile_catalogs
from helpline.opening import OpeningHours, from_table, parse_range

SHIPPED = pack.SHIPPED
TIRANE = ZoneInfo("Europe/Tirane")


def copy_of_albania(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(SHIPPED, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write_po(path: Path, body: str, plural_forms: str | None = None, language: str = "sr_Latn") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n' + f'"Language: {language}\\n"\n'
    if plural_forms:
        header += f'"Plural-Forms: {plural_forms}\\n"\n'
    path.write_text(header + "\n" + body, encoding="utf-8")


SERBIAN = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"


def test_the_shipped_pack_reads_and_checks_clean() -> None:
    albania = pack.read(SHIPPED)
    assert (albania.code, albania.brand, albania.languages, albania.default_language) == (
        "al", "ALO 116 111", ("sq", "en"), "sq")
    assert dict(albania.numbers) == {"helpline": "116 111", "emergency": "112", "police": "129"}
    assert len(albania.municipalities) == 61 and len(albania.counties) == 12
    assert albania.route("child_protection", "Malësi e Madhe", "Shkodër") == "cpu-malesi-e-madhe"
    assert albania.route("police", None, "Gjirokastër") == "police-gjirokaster"
    assert albania.hours.describe() == "00:00-24:00"
    report = check_pack(SHIPPED)
    assert report.errors == [] and report.warnings == []


def test_numbers_carry_the_brand() -> None:
    assert pack.numbers() == {"helpline": "116 111", "emergency": "112", "police": "129", "brand": "ALO 116 111"}


def test_a_missing_field_and_bad_values_are_each_named(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    toml = root / "pack.toml"
    edit(toml, 'code = "al"\n', "")
    edit(toml, 'mon = "00:00-24:00"', 'mon = "8-22"')
    edit(toml, 'timezone = "Europe/Tirane"', 'timezone = "Mars/Olympus"')
    edit(toml, 'languages = ["sq", "en"]', 'languages = ["sq", "en", "xx_QQ", "sr_Latn_XK"]')
    errors = check_pack(root).errors
    assert "pack.toml: code is missing or not a text" in errors
    assert any(e.startswith("pack.toml: [hours] mon: '8-22' must look like 08:00-22:00") for e in errors), errors
    # The rest is judged once pack.toml reads.
    edit(toml, 'mon = "8-22"', 'mon = "08:00-22:00"')
    edit(toml, 'default_language = "sq"', 'code = "al"\ndefault_language = "sq"')
    errors = check_pack(root).errors
    assert "pack.toml: timezone 'Mars/Olympus' is not an IANA time zone (Europe/Tirane)" in errors
    assert "pack.toml: languages: 'xx_QQ' is not a language Babel knows" in errors
    assert any(e.startswith("pack.toml: languages: 'sr_Latn_XK' is longer than 8 characters") for e in errors), errors


def test_routing_places_and_taxonomy_are_checked_against_each_other(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    edit(root / "pack.toml", 'police = "police-{county}"', 'police = "county-police-{county}"')
    edit(root / "pack.toml", '"violence", "other"]', '"violence", "other", "weather"]')
    agencies = json.loads((root / "agencies.json").read_text(encoding="utf-8"))
    agencies["agencies"] = [a for a in agencies["agencies"] if a["code"] != "cpu-kamez"]
    next(a for a in agencies["agencies"] if a["code"] == "cpu-shkoder")["county"] = "Lezhë"
    (root / "agencies.json").write_text(json.dumps(agencies), encoding="utf-8")
    errors = check_pack(root).errors
    assert "pack.toml: [routing] child_protection gives cpu-kamez for Kamëz: no such agency in agencies.json" \
        in errors
    assert "pack.toml: [routing] police gives county-police-shkoder for Shkodër: no such agency in agencies.json" \
        in errors
    assert "agencies.json: agency cpu-shkoder: county 'Lezhë' is not Shkodër's (Shkodër)" in errors
    assert "pack.toml: [prechat] topics: weather is not in taxonomy.json's topics" in errors


def test_a_taxonomy_entry_without_a_label_is_named(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    edit(root / "taxonomy.json", '{"code": "girl", "label": "Girl"}', '{"code": "girl"}')
    assert "taxonomy.json: genders #0 needs a code and a label" in check_pack(root).errors


def test_catalog_plural_forms_and_placeholders(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    edit(root / "pack.toml", 'languages = ["sq", "en"]', 'languages = ["sq", "en", "sr_Latn"]')
    folder = root / "locales" / "sr_Latn" / "LC_MESSAGES"
    write_po(folder / "child.po", 'msgid "One"\nmsgid_plural "Many"\nmsgstr[0] "Jedan"\nmsgstr[1] "Dva"\n\n'
             'msgid "Call %(helpline)s."\nmsgstr "Pozovi %(helpline)s ili %(hotline)s."\n', SERBIAN)
    write_po(folder / "console.po", 'msgid "Sign in"\nmsgstr "Prijava"\n')
    errors = check_pack(root).errors
    assert "locales/sr_Latn/LC_MESSAGES/child.po: 'One' needs all 3 plural forms (msgstr[0] to msgstr[2])" in errors
    assert "locales/sr_Latn/LC_MESSAGES/child.po: 'Call %(helpline)s.' names %(hotline)s, which its msgid " \
           "does not" in errors
    assert "locales/sr_Latn/LC_MESSAGES/console.po: no Plural-Forms header (sr_Latn has 3 plural forms)" in errors
    write_po(folder / "console.po", 'msgid "Sign in"\nmsgstr "Prijava"\n', "nplurals=2; plural=(n != 1);")
    assert "locales/sr_Latn/LC_MESSAGES/console.po: Plural-Forms says nplurals=2; sr_Latn has 3" \
        in check_pack(root).errors


def test_a_partial_catalog_is_counted_not_refused(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    edit(root / "pack.toml", 'languages = ["sq", "en"]', 'languages = ["sq", "en", "sr_Latn"]')
    write_po(root / "locales" / "sr_Latn" / "LC_MESSAGES" / "console.po",
             'msgid "Sign in"\nmsgstr "Prijava"\n', SERBIAN)
    report = check_pack(root)
    assert report.errors == []
    [warning] = report.warnings
    assert warning.startswith("sr_Latn: ") and "strings are not translated" in warning
    missing, total = (int(n) for n in warning.split(": ", 1)[1].split(" strings")[0].split(" of "))
    assert 0 < missing == total - 1  # all but "Sign in"


def test_a_missing_number_is_named(tmp_path: Path) -> None:
    root = copy_of_albania(tmp_path)
    edit(root / "pack.toml", 'police = "129"\n', "")
    edit(root / "pack.toml", 'police = "Police"\n', "")
    write_po(root / "locales" / "sq" / "LC_MESSAGES" / "child.po",
             'msgid "Police: %(police)s"\nmsgstr "Policia: %(police)s"\n', "nplurals=2; plural=(n != 1);", "sq")
    errors = check_pack(root).errors
    assert any(e.startswith("pack.toml: [numbers] has no police, which ") and e.endswith("uses as %(police)s")
               for e in errors), errors


def test_weekly_hours_holidays_and_nights() -> None:
    hours = from_table({"mon": "08:00-20:00", "fri": "20:00-02:00", "sat": "00:00-24:00"},
                       ["2026-12-07"], None)
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=TIRANE)
    assert hours.is_open(monday) and not hours.is_open(monday.replace(hour=20))
    assert not hours.is_open(monday + dt.timedelta(days=1))  # Tuesday: absent, closed
    assert not hours.is_open(dt.datetime(2026, 12, 7, 9, 0, tzinfo=TIRANE))  # a holiday Monday
    friday_night = dt.datetime(2026, 12, 4, 23, 30, tzinfo=TIRANE)
    assert hours.is_open(friday_night) and hours.is_open(friday_night + dt.timedelta(hours=2))
    assert hours.next_opening(monday.replace(hour=21)) == dt.datetime(2026, 12, 4, 20, 0, tzinfo=TIRANE)
    assert hours.describe().startswith("mon 08:00-20:00, tue -, ")
    assert OpeningHours.daily(parse_range("00:00-24:00")).describe() == "00:00-24:00"
    with pytest.raises(ValueError, match="unknown day"):
        from_table({"monday": "08:00-20:00"}, [], None)
    with pytest.raises(ValueError, match="not an ISO date"):
        from_table({}, ["7 Dec"], None)


@pytest.fixture
def serbian_pack(tmp_path: Path) -> Iterator[Path]:
    """A copy of Albania's pack with a partial Serbian catalog, installed in a data folder, made active."""
    data = tmp_path / "data"
    root = copy_of_albania(data)
    edit(root / "pack.toml", 'languages = ["sq", "en"]', 'languages = ["sq", "en", "sr_Latn"]')
    write_po(root / "locales" / "sr_Latn" / "LC_MESSAGES" / "console.po",
             'msgid "Sign in"\nmsgstr "Prijava"\n', SERBIAN)
    write_po(root / "locales" / "sq" / "LC_MESSAGES" / "console.po",
             'msgid "Sign out"\nmsgstr "Dil nga llogaria"\n', "nplurals=2; plural=(n != 1);", "sq")
    compile_catalogs(root)
    active = pack.use(data)
    i18n.use_pack(active)
    try:
        yield root
    finally:
        shipped = pack.use(None)
        i18n.use_pack(shipped)


def test_the_packs_catalog_comes_first_then_the_core_then_the_default_language(serbian_pack: Path) -> None:
    assert pack.active().root == serbian_pack and "sr_Latn" in i18n.locales()
    serbian = i18n.translations("sr_Latn")
    assert serbian.gettext("Sign in") == "Prijava"
    assert serbian.gettext("Sign out") == "Dil nga llogaria"  # not in Serbian: the default language's
    assert i18n.translations("sq").gettext("Sign out") == "Dil nga llogaria"  # the pack's wording wins
    assert i18n.translations("sq").gettext("Sign in") == "Hyr"  # the core's where the pack is silent
    assert i18n.translations("en").gettext("Sign out") == "Sign out"  # English never falls back to Albanian


def test_urgent_topics_come_from_the_pack_and_must_be_its_topics(tmp_path: Path) -> None:
    from chat.model import urgency_from_prechat

    assert pack.read(pack.SHIPPED).urgent_topics == ("violence",)
    assert urgency_from_prechat({"topic": "violence"}) == 1
    assert urgency_from_prechat({"topic": "school"}) == 0
    assert urgency_from_prechat({"topic": "school", "danger": True}) == 2
    copy = tmp_path / "al"
    shutil.copytree(pack.SHIPPED, copy)
    toml = copy / "pack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('urgent_topics = ["violence"]',
                                                             'urgent_topics = ["violence", "wars"]'), encoding="utf-8")
    with pytest.raises(pack.PackError) as refused:
        pack.read(copy)
    assert "urgent_topics: wars is not one of its topics" in str(refused.value)
