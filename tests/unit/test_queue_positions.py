"""Which queue positions a waiting child's page is told (chat/model.py worth_telling)."""

from __future__ import annotations

from chat.model import worth_telling


def test_the_first_frame_is_always_sent() -> None:
    assert worth_telling(None, (5000, 600000))


def test_near_the_front_every_change_is_sent_and_no_repeat() -> None:
    assert worth_telling((3, 360), (2, 240))
    assert worth_telling((3, 360), (3, 300))  # a new estimate alone is news near the front
    assert not worth_telling((3, 360), (3, 360))


def test_far_back_only_a_move_of_a_twentieth_is_sent() -> None:
    assert not worth_telling((2000, 240000), (1999, 239880))
    assert not worth_telling((2000, 240000), (1901, 228120))
    assert worth_telling((2000, 240000), (1900, 228000))
    assert worth_telling((2000, 240000), (20, 2400))  # arrived near the front
