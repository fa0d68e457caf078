"""The referral lifecycle as pure rules (DESIGN.md, "Referral workflow").

``draft → sent → acknowledged → in_progress → closed``; an agency may return a sent referral as
not theirs (``returned``), and the helpline re-routes it (``returned → draft``) to another agency.
"""

from __future__ import annotations

import enum

from helpline import lifecycle
from helpline.lifecycle import IllegalTransition

__all__ = ["IllegalTransition", "ReferralState", "check_transition"]


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


def check_transition(current: str, target: str) -> ReferralState:
    """Returns the target state, or raises IllegalTransition (ValueError for unknown names)."""
    return lifecycle.check_transition(TRANSITIONS, "referral", ReferralState(current), ReferralState(target))
