"""Referral notices by email: `notices list` and `notices send`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from helpline.commands._shared import settings_or_exit, with_store


def cmd_notices_list(args: argparse.Namespace) -> None:
    from referral import notices

    async def work(store: Any) -> list[dict[str, Any]]:
        async with store.read() as db:
            return await notices.listing(db, args.limit)

    for item in asyncio.run(with_store(str(settings_or_exit().database_url), work)):
        print(f"{item['id']}\t{item['status']}\t{item['attempts']}\t{item['kind']}\t{item['to']}\t"
              f"{item['last_error'] or ''}")


def cmd_notices_send(args: argparse.Namespace) -> None:
    """One run of what the server's worker does: escalate overdue referrals, send due notices."""
    from referral import deadlines, follow_up, notices

    settings = settings_or_exit()

    async def work(store: Any) -> tuple[int, int]:
        at = deadlines.now()
        escalated = await deadlines.escalate_due(store, settings, at)
        escalated += await follow_up.follow_up_due(store, settings, at)  # action dates (issue 19)
        return escalated, await notices.deliver_due(store, notices.make_mailer(settings), settings, at)

    escalated, sent = asyncio.run(with_store(str(settings.database_url), work))
    print(f"{escalated} referral(s) escalated, {sent} notice(s) sent.")
