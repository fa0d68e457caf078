"""The wait a waiting child is told (chat/model.py estimate_wait_seconds): from the time per place
(the pace at which children leave the queue) and the counsellors on duty, never position x a
whole average wait (issue 18: position 10 with waits of 600 s gave 6,000 s)."""

from __future__ import annotations

import pytest

from chat import model
from chat.model import QueueFlow, estimate_wait_seconds, offer_message, worth_telling

CASES = [
    # position, seconds per place, seconds since the last departure, on duty -> estimate
    pytest.param(10, 60.0, 20.0, 3, 600, id="a child leaves the queue each minute: place 10 waits 10 minutes"),
    pytest.param(1, 60.0, 20.0, 3, 60, id="next in line"),
    pytest.param(3, 60.0, 600.0, 2, 1800, id="a queue standing still is as slow as it has stood"),
    pytest.param(1, 5.0, 1.0, 4, model.MIN_WAIT_SECONDS, id="never less than half a minute"),
    pytest.param(2, None, None, 3, round(2 * model.SECONDS_PER_CHAT / 3), id="nothing left lately: 3 on duty"),
    pytest.param(2, None, None, 1, round(2 * model.SECONDS_PER_CHAT), id="one counsellor on duty, nothing left lately"),
    pytest.param(4, None, 100.0, 2, round(4 * model.SECONDS_PER_CHAT / 2), id="one departure only"),
    pytest.param(5, 120.0, 30.0, 0, None, id="nobody on duty: no estimate"),
    pytest.param(1, None, None, 0, None, id="nobody on duty and no departures"),
    pytest.param(2000, 3.0, 2.0, 50, 6000, id="a flood with many counsellors"),
]


@pytest.mark.parametrize(("position", "per_place", "since_last", "on_duty", "expected"), CASES)
def test_the_wait_estimate(position: int, per_place: float | None, since_last: float | None, on_duty: int,
                           expected: int | None) -> None:
    assert estimate_wait_seconds(position, QueueFlow(per_place, since_last, on_duty)) == expected


@pytest.mark.parametrize(("wait", "limit_minutes", "offer"), [
    (None, 20.0, True), (600, 20.0, False), (1200, 20.0, False), (1201, 20.0, True), (45, 0.5, True)])
def test_the_page_offers_a_message_when_nobody_is_on_duty_or_the_wait_is_too_long(
        wait: int | None, limit_minutes: float, offer: bool) -> None:
    assert offer_message(wait, limit_minutes) is offer


def test_nobody_on_duty_is_news_even_far_back_in_the_queue() -> None:
    assert worth_telling((2000, 240000), (1999, -1))
    assert worth_telling((2000, -1), (1999, 239880))
    assert not worth_telling((2000, -1), (1999, -1))
