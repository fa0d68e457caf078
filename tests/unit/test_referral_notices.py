"""Notices say only that a referral of some urgency is waiting; retries back off and are capped."""

from __future__ import annotations

import datetime as dt

import pytest

from helpline.models import Agency
from helpline.settings import load_settings
from referral import notices, service


@pytest.mark.parametrize("locale", ["sq", "en"])
@pytest.mark.parametrize("urgency", service.URGENCIES)
def test_waiting_notice_has_no_detail(locale: str, urgency: str) -> None:
    settings = load_settings({"HELPLINE_PUBLIC_ORIGIN": "https://chat.example.al"}, dotenv=None)
    deadline = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    subject, body = notices.waiting_text(locale, settings, urgency, deadline)
    assert "https://chat.example.al/referrals" in body
    assert "10:30" in body  # the deadline in Europe/Tirane
    assert subject and len(subject) < 100
    if locale == "sq":
        assert "referral" not in body.replace("/referrals", "").lower()  # Albanian, not the English fallback


def test_overdue_notice_names_the_agency_only() -> None:
    settings = load_settings({}, dotenv=None)
    agency = Agency(code="cpu-has", name="Njësia për Mbrojtjen e Fëmijëve – Bashkia Has", kind="cpu")
    _, body = notices.overdue_text("en", settings, "emergency", agency, None)
    assert agency.name in body and "http://127.0.0.1:8000/referrals" in body


def test_backoff_doubles_and_is_capped() -> None:
    settings = load_settings({"HELPLINE_NOTICE_RETRY_SECONDS": "30"}, dotenv=None)
    waits = [notices.backoff(settings, n).total_seconds() for n in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == notices.MAX_BACKOFF_SECONDS
    assert waits == sorted(waits)


def test_deadlines_follow_the_settings() -> None:
    settings = load_settings({"HELPLINE_ACK_EMERGENCY_MINUTES": "30"}, dotenv=None)
    assert [service.deadline_minutes(settings, u) for u in service.URGENCIES] == [30, 1440, 4320]
