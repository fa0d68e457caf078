"""The referral lifecycle as pure rules (DESIGN.md, "Referral workflow").

``draft → sent → acknowledged → in_progress → closed``; an agency may return a sent referral as
not theirs (``returned``), and the helpline re-routes it (``returned → draft``) to another agency.
"""

from __future__ import annotations

import enum


class ReferralState(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"
    CLOSED = "closed"


S = ReferralState
TRANSITIONS: dict[ReferralState, frozenset[ReferralState]] = {
    S.DRAFT: frozenset({S.SENT}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.RETURNED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.CLOSED, S.RETURNED}),
    S.IN_PROGRESS: frozenset({S.CLOSED}),
    S.RETURNED: frozenset({S.DRAFT}),
    S.CLOSED: frozenset(),
}


class IllegalReferralTransition(Exception):
    """A change the workflow does not allow; the message names both states."""

    def __init__(self, current: ReferralState, target: ReferralState) -> None:
        super().__init__(f"A referral that is {current.value} cannot become {target.value}.")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> ReferralState:
    """Returns the target state, or raises IllegalReferralTransition (ValueError for unknown names)."""
    here, there = ReferralState(current), ReferralState(target)
    if there not in TRANSITIONS[here]:
        raise IllegalReferralTransition(here, there)
    return there
