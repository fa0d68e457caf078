"""`helpline pack check` and `pack load` (issue 23, acceptance 3): a broken pack — a number a string
uses is missing, the directory names an unknown municipality, a catalog lacks plural forms — has
each problem named, and loading it installs nothing: the data folder and the database stay as they were."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpline import pack
from tests.integration.referral_support import cli, query
from tests.support import Stack

SERBIAN = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"


def good_pack(folder: Path) -> Path:
    """Albania's pack with a Serbian catalog (complete plural forms) and a services file."""
    shutil.copytree(pack.SHIPPED, folder)
    toml = folder / "pack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('code = "al"', 'code = "t1"').replace(
        'languages = ["sq", "en"]', 'languages = ["sq", "en", "sr_Latn"]'), encoding="utf-8")
    po = folder / "locales" / "sr_Latn" / "LC_MESSAGES" / "child.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
                  f'"Plural-Forms: {SERBIAN}\\n"\n\n'
                  'msgid "%(count)d minute"\nmsgid_plural "%(count)d minutes"\n'
                  'msgstr[0] "%(count)d minut"\nmsgstr[1] "%(count)d minuta"\nmsgstr[2] "%(count)d minuta"\n\n'
                  'msgid "Call the police: %(police)s"\nmsgstr "Pozovi policiju: %(police)s"\n', encoding="utf-8")
    (folder / "services.csv").write_text(
        "code,kind,name,county,municipality,phone,email,address,website,hours\r\n"
        "psy-shkoder,psychological,Qendra Psikologjike Shkodër,Shkodër,Shkodër,022 123 456,,,,\r\n",
        encoding="utf-8")
    return folder


def broken_pack(folder: Path) -> Path:
    good_pack(folder)
    toml = folder / "pack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('police = "129"\n', "")
                    .replace('police = "Police"\n', ""), encoding="utf-8")
    agencies = json.loads((folder / "agencies.json").read_text(encoding="utf-8"))
    agencies["agencies"].append({"code": "cpu-atlantis", "kind": "cpu", "name": "Njësia Atlantis",
                                 "county": "Shkodër", "municipality": "Atlantis"})
    (folder / "agencies.json").write_text(json.dumps(agencies, ensure_ascii=False), encoding="utf-8")
    po = folder / "locales" / "sr_Latn" / "LC_MESSAGES" / "child.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr[2] "%(count)d minuta"\n', ""), encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("helpline.db")}


async def agencies(stack: Stack) -> list[tuple[str, str]]:
    return [tuple(row) for row in await query(stack, "SELECT code, name FROM agencies ORDER BY code")]


async def test_a_broken_pack_is_named_problem_by_problem_and_installs_nothing(stack: Stack, tmp_path: Path) -> None:
    broken = broken_pack(tmp_path / "broken")
    checked = cli(stack, "pack", "check", str(broken), check=False)
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert any(line.startswith("error: pack.toml: [numbers] has no police, which ")
               and line.endswith("uses as %(police)s") for line in lines), checked.stdout
    assert "error: agencies.json: agency cpu-atlantis: municipality 'Atlantis' is not in municipalities.json" \
        in lines
    assert "error: locales/sr_Latn/LC_MESSAGES/child.po: '%(count)d minute' needs all 3 plural forms " \
           "(msgstr[0] to msgstr[2])" in lines
    assert any(line.startswith("warning: sr_Latn: ") for line in lines)  # the partial catalog is counted

    before_files, before_rows = snapshot(stack.data_dir), await agencies(stack)
    refused = cli(stack, "pack", "load", str(broken), check=False)
    assert refused.returncode == 1 and "Nothing was installed." in refused.stdout
    assert "cpu-atlantis" in refused.stdout
    assert snapshot(stack.data_dir) == before_files and await agencies(stack) == before_rows
    assert not pack.installed_dir(stack.data_dir).exists()


async def test_a_good_pack_loads_and_a_broken_one_then_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    good = good_pack(tmp_path / "good")
    assert cli(stack, "pack", "check", str(good)).returncode == 0
    loaded = cli(stack, "pack", "load", str(good))
    assert "Pack t1 installed" in loaded.stdout and "77 added" in loaded.stdout, loaded.stdout
    assert "services: 1 added" in loaded.stdout and "1 catalog(s) compiled" in loaded.stdout
    installed = pack.installed_dir(stack.data_dir)
    assert pack.read(installed).code == "t1" and (installed / "locales/sr_Latn/LC_MESSAGES/child.mo").is_file()
    assert await query(stack, "SELECT count(*) FROM agencies") == [(78,)]

    before_files, before_rows = snapshot(stack.data_dir), await agencies(stack)
    refused = cli(stack, "pack", "load", str(broken_pack(tmp_path / "broken")), check=False)
    assert refused.returncode == 1
    assert snapshot(stack.data_dir) == before_files and await agencies(stack) == before_rows
    assert pack.read(installed).code == "t1"
