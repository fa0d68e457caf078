"""The closed screen says when the chat opens next: today's time, "tomorrow", or the weekday (issue 23:
a pack's week may close whole days, as Sunday in a Kosovo-like pack)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from child_ui.web import next_opening
from helpline.opening import from_table

TZ = ZoneInfo("Europe/Belgrade")
WEEK = from_table({"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00",
                   "fri": "08:00-20:00", "sat": "10:00-16:00"}, ["2026-12-25"], None)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, 30, tzinfo=TZ)  # 2026-12-07 is a Monday


def test_open_now_says_nothing() -> None:
    assert next_opening(WEEK, at(7, 9), "sq") is None


def test_later_today_tomorrow_and_after_a_closed_sunday() -> None:
    assert next_opening(WEEK, at(7, 6), "en") == {"time": "08:00", "when": "today", "day": "Monday"}
    assert next_opening(WEEK, at(7, 21), "sq") == {"time": "08:00", "when": "tomorrow", "day": "e martë"}
    assert next_opening(WEEK, at(12, 17), "sq") == {"time": "08:00", "when": "later", "day": "e hënë"}
    assert next_opening(WEEK, at(24, 21), "en") == {"time": "10:00", "when": "later", "day": "Saturday"}
