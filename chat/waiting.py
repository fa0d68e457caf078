"""Nobody left waiting for nobody (issue 18, ADR 0027): a message left for the team, "I am in
danger now" while waiting, and a chat whose counsellor's console is gone taken over.

A left message is a conversation in the state ``message``: the child's page wrapped the
conversation key for every staff key the org key signed (as the report page does for officers), so
whichever counsellor answers next can read it, and the child reads the answer with the resume code.
Retention, audit and statistics treat it as any other conversation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat import duty
from chat import repository as repo
from chat.model import CHILD, prechat_of
from chat.protocol import ProtocolError
from chat.service import ChatService
from chat.teamwork import Teamwork, alert_frame, child_card
from helpline.models import Alert, Conversation, ConversationState, Staff, utcnow
from helpline.security import audit, permissions

WAITING = (ConversationState.QUEUED, ConversationState.MESSAGE)
IN_DANGER = 2  # the urgency of "in danger now" (chat.model.urgency_from_prechat)
MAX_READERS = 200


def _chat_roles() -> list[str]:
    return [role.value for role in permissions.roles_for("chat.accept")]


async def team_readers(chat: ChatService) -> list[dict[str, Any]]:
    """The keys a left message is wrapped for: every enabled staff member who takes chats and whose
    key the org key signed. The page checks each signature against its pinned key again."""
    async with chat._read() as db:
        rows = (await db.execute(select(Staff).where(
            Staff.disabled.is_(False), Staff.role.in_(_chat_roles()), Staff.public_key.is_not(None),
            Staff.key_signature.is_not(None)).order_by(Staff.id).limit(MAX_READERS))).scalars().all()
    return [{"id": s.participant_id, "public_key": s.public_key, "signature": s.key_signature} for s in rows]


async def _waiting_conversation(db: AsyncSession, conv_id: str, child_id: int) -> Conversation:
    conv = await repo.get_conversation(db, conv_id)
    if conv is None or conv.child_id != child_id:
        raise ProtocolError("not_found", "No such conversation.")
    if conv.state not in WAITING:
        raise ProtocolError("bad_state", f"The conversation is {conv.state}, not waiting.")
    return conv


async def leave_message(chat: ChatService, conv_id: str, child_id: int, keys: list[dict[str, str]]) -> str:
    """The child wrote while waiting and leaves it for the team: the key wrapped for each reader
    is stored and the chat leaves the live queue for the consoles' "messages waiting"."""
    async with chat._write() as db:
        conv = await _waiting_conversation(db, conv_id, child_id)
        if conv.last_seq == 0:
            raise ProtocolError("bad_state", "Write your message first, then leave it.")
        readers = {r["id"] for r in await _readers_in(db)}
        unknown = [item["for"] for item in keys if item["for"] not in readers]
        if unknown:
            raise ProtocolError("bad_frame", "A key is wrapped for someone who does not read messages.")
        child_key = await repo.get_key(db, conv_id, CHILD)
        wrapper = child_key.wrapper_public_key if child_key else ""
        for item in keys:
            await repo.set_key(db, conv_id, item["for"], item["key"], wrapper)
        conv.state = chat._transition(conv.state, ConversationState.MESSAGE) \
            if conv.state != ConversationState.MESSAGE else conv.state
    await chat.broker.publish("queue", {"k": "queue"})
    return ConversationState.MESSAGE.value


async def _readers_in(db: AsyncSession) -> list[dict[str, Any]]:
    rows = (await db.execute(select(Staff.public_id).where(
        Staff.disabled.is_(False), Staff.role.in_(_chat_roles()), Staff.key_signature.is_not(None)))).scalars()
    return [{"id": f"staff:{public_id}"} for public_id in rows]


async def in_danger(chat: ChatService, team: Teamwork, conv_id: str, child_id: int) -> dict[str, Any]:
    """"I am in danger now" while waiting: the chat goes to the front of the queue at once and
    every supervisor is alerted as for an emergency (docs/emergencies.md). Saying it twice
    raises one alert."""
    async with chat._write() as db:
        conv = await _waiting_conversation(db, conv_id, child_id)
        if conv.in_danger and conv.urgency >= IN_DANGER:
            return {"urgency": conv.urgency}
        conv.urgency, conv.in_danger = IN_DANGER, True
        alert = Alert(kind="emergency", conversation_id=conv_id, raised_by=None, created_at=utcnow())
        db.add(alert)
        await db.flush()
        await audit.record(db, CHILD, "chat.in_danger", f"conv:{conv_id}", {"alert": alert.id})
        frame = alert_frame(alert, None, conv)
    await team.to_staff("role:supervisor", frame)
    await chat.broker.publish("queue", {"k": "queue"})
    return {"urgency": IN_DANGER}


async def answered(chat: ChatService, team: Teamwork, conv_id: str, staff: Staff) -> None:
    """A waiting child's "in danger now" alert is handled once someone takes the chat."""
    async with chat._write() as db:
        alerts = (await db.execute(select(Alert).where(
            Alert.conversation_id == conv_id, Alert.raised_by.is_(None), Alert.handled_at.is_(None)))).scalars().all()
        for alert in alerts:
            alert.handled_at, alert.handled_by = utcnow(), staff.id
    for alert in alerts:
        await team.to_staff("role:supervisor", {"type": "alert_handled", "alert": alert.id, "by": staff.display_name})


async def take_over(chat: ChatService, team: Teamwork, conv_id: str, supervisor: Staff, to: str) -> dict[str, Any]:
    """A supervisor takes a chat whose counsellor's console has been gone for
    HELPLINE_TAKEOVER_AFTER_SECONDS, or returns it to the queue. The child's page wraps the key for
    whoever answers next, as for a returning child (ADR 0009)."""
    limit = chat.settings.takeover_after_seconds
    async with chat._write() as db:
        conv = await repo.get_conversation(db, conv_id)
        if conv is None:
            raise ProtocolError("not_found", "No such conversation.")
        if conv.state != ConversationState.ACTIVE or conv.counsellor_id is None:
            raise ProtocolError("bad_state", f"The conversation is {conv.state}.")
        if conv.counsellor_id == supervisor.id:
            raise ProtocolError("bad_frame", "You already hold this chat.")
        gone = await duty.gone_seconds(db, conv.counsellor_id)
        if gone is None or gone < limit:
            raise ProtocolError("bad_state", f"The counsellor's console has not been gone for {limit} s.")
        holder = await repo.staff_by_id(db, conv.counsellor_id)
        assert holder is not None
        if to == "queue":
            conv.state = chat._transition(conv.state, ConversationState.QUEUED)
            conv.counsellor_id = None
        else:
            conv.counsellor_id = supervisor.id
        await audit.record(db, supervisor.participant_id, "chat.take_over", f"conv:{conv_id}",
                           {"from": holder.participant_id, "to": to})
        child_key = await repo.get_key(db, conv_id, CHILD)
        taken = {"type": "assigned_to_you", "conv": conv_id, "by": supervisor.display_name,
                 "child_public_key": child_key.wrapper_public_key if child_key else None,
                 "prechat": prechat_of(conv), "last_seq": conv.last_seq}
    moved = "queue" if to == "queue" else "colleague"
    await team._to_conversation(conv_id, "others:" + CHILD, {
        "type": "transferred", "conv": conv_id, "from": holder.participant_id, "to": moved,
        "name": None if to == "queue" else supervisor.display_name})
    await team._to_conversation(conv_id, CHILD, {"type": "transferred", "conv": conv_id, "to": moved})
    if to == "queue":
        await chat.broker.publish("queue", {"k": "queue"})
    else:
        await team.to_staff(supervisor.participant_id, taken)
        await team._to_conversation(conv_id, CHILD, {"type": "assigned", "conv": conv_id,
                                                     "counsellor": child_card(supervisor)})
    return {"to": moved}

