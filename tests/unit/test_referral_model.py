"""The referral state machine refuses every illegal step and never leaves its states."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.model import TRANSITIONS, IllegalTransition, ReferralState, check_transition

STATES = list(ReferralState)


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_every_pair_is_allowed_or_refused_as_the_table_says(current: ReferralState, target: ReferralState) -> None:
    if target in TRANSITIONS[current]:
        assert check_transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition, match=f"{current.value} cannot become {target.value}"):
            check_transition(current, target)


@given(st.lists(st.sampled_from(STATES), max_size=30))
def test_random_walks_stay_valid_and_closed_is_final(steps: list[ReferralState]) -> None:
    state = ReferralState.DRAFT
    for step in steps:
        try:
            state = check_transition(state, step)
        except IllegalTransition:
            pass
        assert state in STATES
    if state is ReferralState.CLOSED:
        assert TRANSITIONS[state] == frozenset()


def test_unknown_state_names_are_refused() -> None:
    with pytest.raises(ValueError):
        check_transition("draft", "lost")
