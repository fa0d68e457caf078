"""What the database keeps and proves: `audit verify` checks the audit log's hash chain, `purge` removes
content closed longer than the retention period."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from helpline.commands._shared import settings_or_exit, with_store


def cmd_audit_verify(args: argparse.Namespace) -> None:
    from helpline.security import audit

    async def work(store: Any) -> Any:
        async with store.read() as db:
            return await audit.verify(db)

    verdict = asyncio.run(with_store(str(settings_or_exit().database_url), work))
    if not verdict.ok:
        bad, first_missing = int(verdict.bad_id or 0), verdict.rows + 1
        if bad > first_missing:
            gone = f"row {first_missing}" if bad == first_missing + 1 else f"rows {first_missing} to {bad - 1}"
            problem = f"{gone} {'was' if bad == first_missing + 1 else 'were'} removed (row {bad} follows row " \
                      f"{verdict.rows})"
        else:
            problem = f"row {bad} was altered ({verdict.reason})"
        print(f"The audit log is broken: {problem}; the {verdict.rows} row(s) before it are intact.",
              file=sys.stderr)
        sys.exit(1)
    print(f"The audit log is intact: {verdict.rows} row(s).")


def cmd_purge(args: argparse.Namespace) -> None:
    """Removes the content of conversations and referrals closed longer than HELPLINE_RETENTION_DAYS."""
    from helpline import retention

    settings = settings_or_exit()

    async def work(store: Any) -> retention.Purged:
        return await retention.purge(store, settings)

    done = asyncio.run(with_store(str(settings.database_url), work))
    print(f"Purged content closed before {retention.cutoff(settings):%Y-%m-%d %H:%M} UTC: {done.messages} "
          f"message(s), {done.case_notes} case note(s), {done.transfer_notes} transfer note(s), "
          f"{done.referral_contents} referral content(s), {done.referral_event_bodies} referral event text(s), "
          f"{done.case_keys} case key(s), {done.case_task_texts} follow-up text(s), "
          f"{done.handover_notes} handover note(s).")
