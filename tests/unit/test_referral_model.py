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


def reachable(start: ReferralState) -> set[ReferralState]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_and_every_open_state_can_still_close() -> None:
    assert reachable(ReferralState.DRAFT) == set(STATES)
    for state in STATES:
        assert ReferralState.CLOSED in reachable(state)


# What the service records alongside the state: a walk must keep these facts consistent.
@given(st.lists(st.sampled_from(STATES), max_size=40))
def test_walks_keep_the_history_consistent(steps: list[ReferralState]) -> None:
    state, history, refused = ReferralState.DRAFT, [ReferralState.DRAFT], 0
    acknowledged = closed = False
    for step in steps:
        try:
            state = check_transition(state, step)
        except IllegalTransition as exc:
            refused += 1
            assert exc.current is state and exc.target is step
            assert step not in TRANSITIONS[state]
            continue
        assert step in TRANSITIONS[history[-1]]
        history.append(state)
        acknowledged = acknowledged or state is ReferralState.ACKNOWLEDGED
        if state is ReferralState.DRAFT:  # re-routed: a new agency must acknowledge again
            acknowledged = False
        closed = state is ReferralState.CLOSED
        if state is ReferralState.IN_PROGRESS:
            assert acknowledged, history
    assert len(history) + refused == len(steps) + 1
    if closed:
        assert history.count(ReferralState.CLOSED) == 1 and history[-1] is ReferralState.CLOSED
        assert acknowledged, history  # nobody closes what was never acknowledged
