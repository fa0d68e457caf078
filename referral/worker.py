"""The referrals' background job, run by every server process: escalate overdue referrals, remind
and escalate missed action dates, send due notices. The composition root hands it to the scheduler (helpline/jobs.py).

All of its state is in the database (see deadlines.py and notices.py), so any number of processes
may run it side by side and a restart picks up where the last one stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from referral import deadlines, follow_up, notices

if TYPE_CHECKING:
    from helpline.app import Services
    from helpline.jobs import Scheduler


async def run_once(services: Services, mailer: notices.Mailer) -> tuple[int, int]:
    at = deadlines.now()
    escalated = await deadlines.escalate_due(services.store, services.settings, at)
    escalated += await follow_up.follow_up_due(services.store, services.settings, at)
    sent = await notices.deliver_due(services.store, mailer, services.settings, at)
    return escalated, sent


def add_job(jobs: Scheduler, services: Services) -> None:
    """Hands the run to the scheduler: every HELPLINE_WORKER_SECONDS, with one mailer for all runs."""
    mailer = notices.make_mailer(services.settings)
    jobs.add("referral worker", float(services.settings.worker_seconds), lambda: run_once(services, mailer))
