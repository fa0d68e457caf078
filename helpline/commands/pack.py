"""The helpline pack: `pack check DIR` names every problem; `pack load DIR` installs a pack that has none.

Loading copies the pack into ``<HELPLINE_DATA_DIR>/pack``, compiles its catalogs there and loads its
agency directory (and services.csv) into the database, in that order of risk: the copy is staged first,
the database written in one transaction, and only then is the staged copy put in place. Any error
and nothing changes (docs/packs.md)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo

from helpline import _pack_catalogs, pack
from helpline.commands._shared import settings_or_exit, with_store
from helpline.pack_check import Report, check

STAGED = ".pack-new"
REPLACED = ".pack-old"


def _services_problem(text: str) -> str | None:
    from referral import services_dir
    from referral.service import ReferralError

    try:
        services_dir.parse_csv(text)
    except ReferralError as exc:
        return str(exc)
    return None


def check_pack(root: Path) -> Report:
    """The whole check, with the referral package's agency kinds and services CSV rules."""
    from referral import directory

    if not (root / "pack.toml").is_file():
        return Report(errors=[f"{root}: no pack.toml here (is it a helpline pack folder?)"])
    return check(root, kinds=directory.KINDS, services=_services_problem)


def print_report(root: Path, report: Report) -> None:
    for problem in report.errors:
        print(f"error: {problem}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.errors:
        print(f"{root}: {len(report.errors)} problem(s); the pack cannot be loaded.")
    else:
        print(f"{root}: the pack is ready to load.")


def cmd_pack_check(args: argparse.Namespace) -> None:
    root = Path(args.dir)
    report = check_pack(root)
    print_report(root, report)
    if report.errors:
        sys.exit(1)


def compile_catalogs(root: Path) -> int:
    """Writes each .po of the pack as the .mo the service reads; returns how many."""
    done = 0
    for locale, domain, po in _pack_catalogs.pack_catalogs(root):
        catalog = _pack_catalogs.read_catalog(po, locale, domain)
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)
        done += 1
    return done


async def _load_data(store: Any, root: Path) -> str:
    from referral import directory, services_dir

    async with store.write() as db:
        result = await directory.load(db, root / "agencies.json")
        summary = f"directory {result.version}: {result.added} added, {result.updated} updated, " \
                  f"{result.unchanged} unchanged"
        if (root / "services.csv").is_file():
            rows = services_dir.parse_csv((root / "services.csv").read_text(encoding="utf-8"))
            counts = await services_dir.import_rows(db, rows)
            summary += f"; services: {counts['added']} added, {counts['updated']} updated"
    return summary


def install(root: Path, data_dir: Path, database_url: str) -> str:
    """Stages the copy, loads the database, then puts the copy in place; raises and leaves nothing on error."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged, old, target = data_dir / STAGED, data_dir / REPLACED, pack.installed_dir(data_dir)
    shutil.rmtree(staged, ignore_errors=True)
    try:
        shutil.copytree(root, staged, ignore=shutil.ignore_patterns("*.mo", "__pycache__", ".*"))
        compiled = compile_catalogs(staged)
        summary = asyncio.run(with_store(database_url, lambda store: _load_data(store, staged)))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staged.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    pack.forget()
    return f"{summary}; {compiled} catalog(s) compiled"


def cmd_pack_load(args: argparse.Namespace) -> None:
    root = Path(args.dir)
    report = check_pack(root)
    if report.errors:
        print_report(root, report)
        print("Nothing was installed.")
        sys.exit(1)
    for warning in report.warnings:
        print(f"warning: {warning}")
    settings = settings_or_exit()
    try:
        summary = install(root, Path(settings.data_dir), str(settings.database_url))
    except (OSError, ValueError) as exc:
        sys.exit(f"The pack was not loaded, nothing was installed: {exc}")
    print(f"Pack {pack.read(pack.installed_dir(settings.data_dir)).code} installed in "
          f"{pack.installed_dir(settings.data_dir)}: {summary}. Restart the service to use it.")
