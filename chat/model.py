"""Conversation lifecycle and the chat's other pure rules (opening hours, what a page may learn of a
counsellor, the pre-chat answers as sent): no I/O, reached by the services and the pages alike.

``queued → active → ended``, or ``queued → abandoned`` when the child leaves before pick-up;
``active → queued`` when a counsellor hands the chat back to the queue; ``queued → message`` when
the child leaves a message for the next counsellor, and ``message → active`` when one answers it.
Queue order is urgency first, then waiting time; urgency comes only from pre-chat answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from helpline import lifecycle, pack, runtime_config
from helpline.lifecycle import IllegalTransition
from helpline.models import Conversation, Staff
from helpline.models import ConversationState as State
from helpline.settings import Settings

__all__ = ["IllegalTransition", "State", "check_transition"]

TRANSITIONS: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.ACTIVE, State.ABANDONED, State.MESSAGE}),
    State.MESSAGE: frozenset({State.ACTIVE, State.ABANDONED}),
    State.ACTIVE: frozenset({State.ENDED, State.QUEUED}),
    State.ENDED: frozenset(),
    State.ABANDONED: frozenset(),
}

OPEN_STATES = (State.QUEUED, State.ACTIVE, State.MESSAGE)

CHILD = "child"  # the child's participant id in a conversation


def check_transition(current: str, target: str) -> State:
    """Returns the target state, or raises IllegalTransition."""
    return lifecycle.check_transition(TRANSITIONS, "conversation", State(current), State(target))


def urgency_from_prechat(prechat: dict[str, Any]) -> int:
    """2 = in danger now, 1 = a topic that often means harm, 0 = everything else."""
    if prechat.get("danger") is True:
        return 2
    if prechat.get("topic") in pack.active().urgent_topics:  # the helpline pack's [prechat] urgent_topics
        return 1
    return 0


def leave_target(current: str) -> State:
    """What leaving means: before pick-up the child abandoned the queue, after it the chat ended."""
    return State.ABANDONED if State(current) in (State.QUEUED, State.MESSAGE) else State.ENDED


def worth_telling(shown: tuple[int, int] | None, now: tuple[int, int]) -> bool:
    """Whether a waiting child's page should get a new (position, wait): near the front every
    change, further back only a move of a twentieth or more, so a queue of thousands moving by one
    does not send thousands of frames that change nothing a child would notice. A wait of -1 means
    nobody is on duty: going there or coming back from it is always news."""
    if shown is None or (shown[1] < 0) != (now[1] < 0):
        return True
    if now[0] <= 20:
        return now != shown
    return abs(now[0] - shown[0]) >= max(1, shown[0] // 20)


SECONDS_PER_CHAT = 900.0  # with no recent departures: a counsellor frees a place about every 15 minutes
MIN_WAIT_SECONDS = 30  # nobody is answered in no time: the page never promises less


@dataclass(frozen=True)
class QueueFlow:
    """What a wait is estimated from (chat/waiting.py reads it): the mean time between the recent
    departures from the queue (children taken or gone), None with fewer than two; the seconds since
    the last departure, None with none lately; and the counsellors on duty."""

    seconds_per_place: float | None
    since_last: float | None
    on_duty: int


def estimate_wait_seconds(position: int, flow: QueueFlow) -> int | None:
    """How long the child at ``position`` (1 = next) will wait, or None when nobody is on duty.

    A place in the queue moves each time a child leaves it, so the time per place is the time
    between departures, not a child's whole wait (position x average wait counted the wait of every
    child ahead once per place). With no departures lately, each counsellor on duty is taken to free
    a place per SECONDS_PER_CHAT. A queue that has not moved for longer than its usual pace is as
    slow as the time it has stood still."""
    if flow.on_duty <= 0:
        return None
    per_place = flow.seconds_per_place if flow.seconds_per_place is not None else SECONDS_PER_CHAT / flow.on_duty
    if flow.since_last is not None:
        per_place = max(per_place, flow.since_last)
    return max(MIN_WAIT_SECONDS, round(position * per_place))


def offer_message(wait_seconds: int | None, limit_minutes: float) -> bool:
    """Whether the waiting child's page offers our number and a message: nobody on duty, or too long."""
    return wait_seconds is None or wait_seconds > limit_minutes * 60


@dataclass(frozen=True)
class CounsellorCard:
    """What a child's page needs to check and wrap for its counsellor: the opaque participant id
    the org key signed, the key, and the first name chosen for children (None: the page says a
    neutral word). Never the username or the display name (ADR 0019)."""

    id: str
    name: str | None
    public_key: str | None
    signature: str | None
    has_key: bool

    @classmethod
    def of(cls, staff: Staff, has_key: bool = False) -> CounsellorCard:
        return cls(staff.participant_id, staff.name_for_children, staff.public_key, staff.key_signature, has_key)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "public_key": self.public_key,
                "signature": self.signature, "has_key": self.has_key}


def prechat_of(conv: Conversation) -> dict[str, Any]:
    return {"who": conv.contact_by, "age_band": conv.age_band, "gender": conv.gender,
            "municipality": conv.municipality, "topic": conv.topic, "danger": conv.in_danger}


def is_open(settings: Settings, now: dt.datetime | None = None, hours: tuple[int, int] | None = None) -> bool:
    """Open at ``now``? ``hours`` (from helpline.runtime_config) replace the pack's week by one range a day."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(settings.timezone)
    return runtime_config.week(settings, hours).is_open(local)
