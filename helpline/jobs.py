"""The background jobs every server process runs, on one scheduler: each job is a coroutine and an
interval, handed over by the feature that owns it in the composition root (helpline/app.py), so the
core knows no feature. Retention's purge and the referral deadlines and notices are jobs; a later
job (a nightly roll-up, a reminder) is one more `add`.

A job keeps all of its state in the database, so any number of processes may run it side by side
and a restart picks up where the last one stopped. A failed run is logged and tried again at the
next interval; the loop never dies of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from helpline.db import StoreUnavailable

log = logging.getLogger("helpline.jobs")


@dataclass(frozen=True)
class Job:
    name: str  # in the log and as the task's name
    every: float  # seconds between the end of one run and the start of the next
    run: Callable[[], Awaitable[object]]


class Scheduler:
    """Runs each job registered with it in a loop of its own, from `start` until `stop`."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, name: str, every: float, run: Callable[[], Awaitable[object]]) -> None:
        self.jobs.append(Job(name, every, run))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(_loop(job), name=job.name) for job in self.jobs]

    async def stop(self) -> None:
        """Cancels the loops, the last started first, and waits for each to end."""
        for task in reversed(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


async def _loop(job: Job) -> None:
    while True:
        try:
            await job.run()
        except StoreUnavailable:
            log.warning("%s: the database is unavailable; trying again later", job.name)
        except Exception:
            log.exception("%s: a run failed; trying again later", job.name)
        await asyncio.sleep(job.every)
