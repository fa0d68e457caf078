"""When the chat is open: hours for each day of the week, public holidays, in the helpline's time zone.

The helpline pack gives the week (``[hours]`` of pack.toml, docs/packs.md); ``HELPLINE_OPENING_HOURS``
and the admins' console setting (helpline.runtime_config) may replace it with one range for every day.
A range that ends before it starts runs past midnight ("20:00-08:00" opens Monday 20:00 and closes
Tuesday 08:00); "00:00-24:00" is the whole day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")

Span = tuple[int, int]  # [start minute, end minute) of a local day; end may be below start (past midnight)


def parse_range(text: str) -> Span:
    """``08:00-22:00`` as minutes of the day; raises ValueError saying what a range looks like."""
    match = RANGE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} must look like 08:00-22:00 (00:00-24:00 means the whole day)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start < DAY_MINUTES and 0 < end <= DAY_MINUTES and m1 < 60 and m2 < 60) or start == end:
        raise ValueError(f"{text!r} must lie within 00:00-24:00 and not start where it ends")
    return start, end


def format_range(span: Span | list[int]) -> str:
    return f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    """A week of opening ranges (Monday first; None = closed) and the public holidays."""

    week: tuple[Span | None, ...]
    holidays: frozenset[dt.date] = frozenset()
    holiday_hours: Span | None = None  # on a holiday: closed unless this is given

    @classmethod
    def daily(cls, span: Span | tuple[int, int]) -> OpeningHours:
        return cls((span,) * 7)

    def on(self, day: dt.date) -> Span | None:
        """The range that starts on this local day, if any."""
        if day in self.holidays:
            return self.holiday_hours
        return self.week[day.weekday()]

    def is_open(self, local: dt.datetime) -> bool:
        """Open at this local time? (a range past midnight keeps the next morning open)."""
        minute = local.hour * 60 + local.minute
        today = self.on(local.date())
        if today is not None:
            start, end = today
            if start <= minute < (end if end > start else DAY_MINUTES):
                return True
        yesterday = self.on(local.date() - dt.timedelta(days=1))
        return bool(yesterday is not None and yesterday[1] < yesterday[0] and minute < yesterday[1])

    def next_opening(self, local: dt.datetime) -> dt.datetime | None:
        """When it next opens after ``local`` (a closed moment), within two weeks; None if never."""
        for offset in range(15):
            day = local.date() + dt.timedelta(days=offset)
            span = self.on(day)
            if span is None:
                continue
            start = dt.datetime.combine(day, dt.time(span[0] // 60, span[0] % 60), tzinfo=local.tzinfo)
            if start > local:
                return start
        return None

    def describe(self) -> str:
        """One line for admins: "00:00-24:00" when every day is the same, else day by day."""
        if len(set(self.week)) == 1 and self.week[0] is not None and not self.holidays:
            return format_range(self.week[0])
        days = [f"{name} {format_range(span) if span else '-'}" for name, span in zip(DAYS, self.week, strict=True)]
        if self.holidays:
            days.append(f"holidays {format_range(self.holiday_hours) if self.holiday_hours else '-'}")
        return ", ".join(days)


def from_table(hours: dict[str, object], holidays: list[object], holiday_hours: object | None) -> OpeningHours:
    """Builds the week from pack.toml's tables; raises ValueError naming the bad day or date."""
    unknown = sorted(set(hours) - set(DAYS))
    if unknown:
        raise ValueError(f"unknown day(s) {', '.join(unknown)}: use {', '.join(DAYS)}")
    week: list[Span | None] = []
    for name in DAYS:
        value = hours.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a text such as \"08:00-22:00\"")
        try:
            week.append(parse_range(value) if value else None)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    dates: set[dt.date] = set()
    for raw in holidays:
        try:
            dates.add(raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)))
        except ValueError:
            raise ValueError(f"holiday {raw!r} is not an ISO date such as 2026-11-28") from None
    if holiday_hours is not None and not isinstance(holiday_hours, str):
        raise ValueError("holiday_hours must be a text such as \"10:00-18:00\"")
    return OpeningHours(tuple(week), frozenset(dates), parse_range(holiday_hours) if holiday_hours else None)
