"""The action date's ladder as pure rules (referral/follow_up.py): when each step falls due, one
step at a time, a passed reminder skipped, the State Agency step only when configured."""

from __future__ import annotations

import datetime as dt

import pytest

from helpline.models import ReferralFollow
from helpline.settings import load_settings
from referral.follow import check_support, parse_due
from referral.follow_up import kind_of, next_step, schedule
from referral.service import ReferralError

T0 = dt.datetime(2026, 5, 3, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def follow(window_hours: float, plan: int = 2) -> ReferralFollow:
    return ReferralFollow(referral_id="r", plan=plan, due_at=T0 + window_hours * H, set_by="staff:x", set_at=T0)


def test_the_steps_fall_due_in_order_and_the_reminder_takes_at_most_half_the_time() -> None:
    settings = load_settings({}, dotenv=None)
    long = dict(schedule(follow(72), settings))
    assert long == {"remind": T0 + 48 * H, "agency": T0 + 72 * H, "supervisors": T0 + 96 * H,
                    "state_agency": T0 + 120 * H}
    assert dict(schedule(follow(10), settings))["remind"] == T0 + 5 * H
    without = load_settings({"HELPLINE_FOLLOW_STATE_AGENCY": ""}, dotenv=None)
    assert [step for step, _ in schedule(follow(72), without)] == ["remind", "agency", "supervisors"]


def test_one_step_at_a_time_and_a_passed_reminder_is_skipped() -> None:
    settings = load_settings({}, dotenv=None)
    row = follow(72)
    assert next_step(row, settings, set(), T0 + 47 * H) is None
    assert next_step(row, settings, set(), T0 + 49 * H) == "remind"
    assert next_step(row, settings, {kind_of(2, "remind")}, T0 + 49 * H) is None
    late = T0 + 200 * H  # the server was down for days: the steps still come one by one
    assert next_step(row, settings, set(), late) == "agency"
    assert next_step(row, settings, {"p2:agency"}, late) == "supervisors"
    assert next_step(row, settings, {"p2:agency", "p2:supervisors"}, late) == "state_agency"
    assert next_step(row, settings, {"p2:agency", "p2:supervisors", "p2:state_agency"}, late) is None
    assert next_step(row, settings, {"p1:agency"}, late) == "agency"  # an earlier date's steps do not count


def test_support_and_dates_are_checked() -> None:
    assert check_support(["legal", "psychological", "legal"], None) == (["legal", "psychological"], None)
    assert check_support(["none"], "family_refused") == (["none"], "family_refused")
    for kinds, reason in ((["none", "legal"], "other"), (["none"], None), ([], None), (["legal"], "other"),
                          (["magic"], None)):
        with pytest.raises(ReferralError):
            check_support(kinds, reason)
    assert parse_due("2026-05-10", T0) == dt.datetime(2026, 5, 10, 23, 59, tzinfo=dt.UTC)
    for bad in ("2026-05-01", "2028-01-01", "tomorrow", "2026-13-01"):
        with pytest.raises(ReferralError):
            parse_due(bad, T0)
