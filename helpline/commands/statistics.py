"""Anonymised statistics: `stats export`, `stats rollup`, and `demo-data` for the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from helpline.commands._shared import language_or_exit, settings_or_exit, with_store


def cmd_stats_export(args: argparse.Namespace) -> None:
    """Prints the suppressed statistics tables as CSV (the same cells as the /stats download)."""
    import datetime as dt

    from stats import export, queries, report, rollups, web

    settings = settings_or_exit()
    lang = language_or_exit(args.lang)
    try:
        filters = queries.Filters(dt.date.fromisoformat(args.date_from), dt.date.fromisoformat(args.date_to),
                                  args.county, args.category)
        filters.check()
    except ValueError as exc:
        sys.exit(f"stats export: {exc}")

    async def work(store: Any) -> str:
        await rollups.ensure_fresh(store, settings.timezone)
        async with store.read() as db:
            current = await queries.load_slice(db, filters)
            previous = await queries.load_slice(db, filters.previous(), with_open=False)
        built = report.build_report(current, previous, filters, int(settings.stats_k), lang)
        return web.to_csv(export.csv_rows(built, args.layout))

    text = asyncio.run(with_store(str(settings.database_url), work))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_stats_rollup(args: argparse.Namespace) -> None:
    from stats import rollups

    settings = settings_or_exit()

    async def work(store: Any) -> int:
        if args.all:
            return await rollups.rebuild(store, settings.timezone)
        await rollups.ensure_fresh(store, settings.timezone, max_age=rollups.NO_WAIT)
        return -1

    rows = asyncio.run(with_store(str(settings.database_url), work))
    print("roll-ups up to date" + (f": {rows} rows" if rows >= 0 else ""))


async def _demo_agencies(store: Any) -> list[tuple[int, str | None]]:
    """The directory's agencies as (id, county), loading the shipped directory into an empty one."""
    from sqlalchemy import select

    from helpline.models import Agency
    from referral import directory

    async with store.write() as db:
        rows = (await db.execute(select(Agency.id, Agency.county))).all()
        if not rows:
            await directory.load(db)
            rows = (await db.execute(select(Agency.id, Agency.county))).all()
    return [(int(i), c) for i, c in rows]


def cmd_demo_data(args: argparse.Namespace) -> None:
    """Bulk-inserts generated metadata (no content) for the statistics benchmark."""
    import time

    from stats import demo, rollups

    settings = settings_or_exit()

    async def work(store: Any) -> Any:
        contacts = args.contacts if args.contacts is not None else 3 * args.conversations
        result = await demo.generate(store, args.conversations, args.referrals, agencies=await _demo_agencies(store),
                                     days=args.days, seed=args.seed, contacts=contacts)
        if not args.no_rollup:
            await rollups.rebuild(store, settings.timezone)
        return result

    started = time.monotonic()
    result = asyncio.run(with_store(str(settings.database_url), work))
    print(f"{result.conversations} conversations, {result.case_records} case records, {result.contacts} calls, "
          f"e-mails, visits, letters and reports, {result.referrals} "
          f"referrals, {result.escalations} escalations in {time.monotonic() - started:.1f} s")
