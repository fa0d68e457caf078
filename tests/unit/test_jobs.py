"""The one background-job loop (helpline/jobs.py): every job runs at start and again after its
interval; a failed run is logged and the loop goes on; `stop` ends every loop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from helpline.db import StoreUnavailable
from helpline.jobs import Scheduler


async def test_jobs_run_again_after_a_failure_and_stop(caplog: pytest.LogCaptureFixture) -> None:
    runs: dict[str, int] = {"ok": 0, "down": 0, "broken": 0}

    async def ok() -> None:
        runs["ok"] += 1

    async def down() -> None:
        runs["down"] += 1
        raise StoreUnavailable("no database")

    async def broken() -> None:
        runs["broken"] += 1
        raise ValueError("a bug")

    jobs = Scheduler()
    for name, run in (("ok", ok), ("down", down), ("broken", broken)):
        jobs.add(name, 0.01, run)
    with caplog.at_level(logging.WARNING, logger="helpline.jobs"):
        jobs.start()
        await asyncio.sleep(0.1)
        await jobs.stop()
    assert all(count >= 2 for count in runs.values()), runs
    after = dict(runs)
    await asyncio.sleep(0.05)
    assert runs == after  # stopped: no more runs
    assert "down: the database is unavailable; trying again later" in caplog.text
    assert "broken: a run failed; trying again later" in caplog.text
    assert [job.name for job in jobs.jobs] == ["ok", "down", "broken"]
