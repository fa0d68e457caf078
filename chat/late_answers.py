"""Pre-chat answers a child gives after starting, while she waits (the `prechat` frame).

The child page lets a child start at the top of the questions and answer them in the queue
(docs/child-page.md). Each frame carries every answer chosen so far; the conversation takes them
while it is still queued. Urgency is recomputed from the answers but never lowered here, so a later
frame cannot undo "in danger now" (from the start, or from the waiting screen's own button).
"""

from __future__ import annotations

from typing import Any

from chat import model
from chat import repository as repo
from chat.broker import Broker
from chat.protocol import ProtocolError
from chat.service import as_protocol_errors
from helpline.db import Store
from helpline.models import ConversationState

# Frame field -> Conversation column.
COLUMNS = {"who": "contact_by", "age_band": "age_band", "gender": "gender", "municipality": "municipality",
           "topic": "topic", "danger": "in_danger"}


async def answer_while_waiting(store: Store, broker: Broker, conv_id: str, child_id: int,
                               answers: dict[str, Any]) -> None:
    """Stores the answers on the child's queued conversation and refreshes the consoles' queue."""
    with as_protocol_errors():
        async with store.write() as db:
            conv = await repo.get_conversation(db, conv_id)
            if conv is None or conv.child_id != child_id:
                raise ProtocolError("not_found", "No such conversation.")
            if conv.state != ConversationState.QUEUED:
                raise ProtocolError("bad_state", "Pre-chat answers are taken while the chat is queued.")
            for field, value in answers.items():
                setattr(conv, COLUMNS[field], value)
            conv.urgency = max(conv.urgency, model.urgency_from_prechat(model.prechat_of(conv)))
    await broker.publish("queue", {"k": "queue"})
