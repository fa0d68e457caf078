"""The background loop every server process runs: escalate overdue referrals, send due notices.

All of its state is in the database (see deadlines.py and notices.py), so any number of processes
may run it side by side and a restart picks up where the last one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from helpline.db import StoreUnavailable
from referral import deadlines, notices

if TYPE_CHECKING:
    from helpline.app import Services

log = logging.getLogger("helpline.worker")


async def run_once(services: Services, mailer: notices.Mailer) -> tuple[int, int]:
    at = deadlines.now()
    escalated = await deadlines.escalate_due(services.store, services.settings, at)
    sent = await notices.deliver_due(services.store, mailer, services.settings, at)
    return escalated, sent


async def loop(services: Services) -> None:
    mailer = notices.make_mailer(services.settings)
    interval = float(services.settings.worker_seconds)
    while True:
        try:
            await run_once(services, mailer)
        except StoreUnavailable:
            log.warning("referral worker: the database is unavailable; trying again later")
        except Exception:
            log.exception("referral worker: a run failed; trying again later")
        await asyncio.sleep(interval)


def start(services: Services) -> asyncio.Task[None]:
    return asyncio.create_task(loop(services), name="referral-worker")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
