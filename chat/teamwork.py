"""Staff working together on a chat: transfer, ask a supervisor, grant and join, assign, block.

The server holds no conversation key. Whoever hands a chat on wraps the key for the receiver in
their own browser (after checking the receiver's key against the org key); the server stores the
wrapped key, moves the assignment, and tells each side. Every step is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat import repository as repo
from chat.hub import STAFF_CHANNEL
from chat.model import CHILD, CounsellorCard, prechat_of
from chat.protocol import ProtocolError
from chat.service import ChatService
from helpline.crypto import CryptoError, check_ciphertext_shape
from helpline.models import Alert, ChildIdentity, Conversation, ConversationState, Staff, Transfer, utcnow
from helpline.security import audit, permissions

BLOCK_REASONS = ("abusive", "threats", "prank", "sexual", "other")
STATUSES = ("available", "busy", "break")
ALERT_KINDS = ("help", "emergency")


def card_of(staff: Staff) -> dict[str, Any]:
    """A colleague's card for staff consoles: with the display name colleagues know."""
    return {**CounsellorCard.of(staff).as_dict(), "name": staff.display_name}


def child_card(staff: Staff) -> dict[str, Any]:
    """The card a child's page gets: opaque id, key, signature, the first name chosen for children."""
    return CounsellorCard.of(staff).as_dict()


class Teamwork:
    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self.broker = chat.broker

    async def to_staff(self, to: str, frame: dict[str, Any]) -> None:
        """Wakes staff consoles in every process: ``to`` is a participant id or ``role:<role>``."""
        await self.broker.publish(STAFF_CHANNEL, {"k": "staff", "to": to, "frame": frame})

    async def _to_conversation(self, conv_id: str, to: str, frame: dict[str, Any]) -> None:
        await self.broker.publish(f"conv:{conv_id}", {"k": "event", "to": to, "frame": frame})

    async def _colleague(self, db: AsyncSession, participant: str) -> Staff:
        public_id = participant.removeprefix("staff:")
        staff = (await db.execute(select(Staff).where(Staff.public_id == public_id))).scalar_one_or_none()
        if staff is None or staff.disabled:
            raise ProtocolError("not_found", "No such colleague.")
        if staff.public_key is None or staff.key_signature is None:
            raise ProtocolError("bad_state", "This colleague has no signed key yet.")
        return staff

    async def _active_member(self, db: AsyncSession, conv_id: str, staff: Staff) -> Conversation:
        conv = await self.chat.staff_conversation(db, conv_id, staff)
        if conv.state != ConversationState.ACTIVE:
            raise ProtocolError("bad_state", f"The conversation is {conv.state}.")
        return conv

    # -- transfer ------------------------------------------------------------------------------

    async def transfer(self, conv_id: str, staff: Staff, to: str, key: str | None, note: str | None) -> dict[str, Any]:
        """Hands an active chat to a named colleague (with the key re-wrapped for them) or back to the queue."""
        if note is not None:
            try:
                check_ciphertext_shape(note, 8192)
            except CryptoError as exc:
                raise ProtocolError("bad_ciphertext", f"The handover note is not accepted: {exc}.") from None
        async with self.chat._write() as db:
            conv = await self._active_member(db, conv_id, staff)
            if to == "queue":
                target = None
                conv.state = self.chat._transition(conv.state, ConversationState.QUEUED)
                conv.counsellor_id = None
            else:
                target = await self._colleague(db, to)
                if target.id == conv.counsellor_id:
                    raise ProtocolError("bad_frame", "This colleague already holds the chat.")
                if not permissions.allowed(target.role, "chat.accept"):
                    raise ProtocolError("forbidden", "This colleague does not take chats.")
                if key is None:
                    raise ProtocolError("bad_frame", "'key' is missing: wrap the conversation key for the colleague.")
                limit = target.max_chats or self.chat.settings.max_chats
                if await repo.count_held(db, target.id) >= limit:
                    raise ProtocolError("busy", f"{target.display_name} already holds {limit} chats.")
                assert staff.public_key is not None
                await repo.set_key(db, conv_id, target.participant_id, key, staff.public_key)
                conv.counsellor_id = target.id
            db.add(Transfer(conversation_id=conv_id, from_staff_id=staff.id,
                            to_staff_id=target.id if target else None, note=note))
            await audit.record(db, staff.participant_id, "chat.transfer", f"conv:{conv_id}",
                               {"to": target.participant_id if target else "queue"})
            await db.flush()
            last_seq, prechat = conv.last_seq, prechat_of(conv)
            child_key = await repo.get_key(db, conv_id, CHILD)
        child_public = child_key.wrapper_public_key if child_key else None
        moved = {"type": "transferred", "conv": conv_id, "from": staff.participant_id,
                 "to": "queue" if target is None else "colleague",
                 "name": target.display_name if target else None}
        # Staff see who took it; the child only that someone did (no staff id or name).
        await self._to_conversation(conv_id, "others:" + CHILD, moved)
        await self._to_conversation(conv_id, CHILD, {"type": "transferred", "conv": conv_id, "to": moved["to"]})
        if target is None:
            await self.broker.publish("queue", {"k": "queue"})
        else:
            await self._to_conversation(conv_id, CHILD, {"type": "assigned", "conv": conv_id,
                                                         "counsellor": child_card(target)})
            await self.to_staff(target.participant_id, {
                "type": "handover", "conv": conv_id, "from": staff.display_name, "key": key,
                "wrapper_public_key": staff.public_key, "child_public_key": child_public,
                "prechat": prechat, "last_seq": last_seq, "note": note})
        return {"to": moved["to"]}

    # -- supervisors ---------------------------------------------------------------------------

    async def ask_supervisor(self, conv_id: str, staff: Staff, kind: str) -> dict[str, Any]:
        async with self.chat._write() as db:
            conv = await self._active_member(db, conv_id, staff)
            alert = Alert(kind=kind, conversation_id=conv_id, raised_by=staff.id, created_at=utcnow())
            db.add(alert)
            await db.flush()
            await audit.record(db, staff.participant_id, "chat.ask_supervisor", f"conv:{conv_id}",
                               {"alert": alert.id, "kind": kind})
            frame = alert_frame(alert, staff, conv)
        await self.to_staff("role:supervisor", frame)
        if kind == "emergency":  # the child reads, in the helpline's agreed words, that help is coming
            await self._to_conversation(conv_id, CHILD, {"type": "safety_help", "conv": conv_id})
        return {"alert": frame["alert"]}

    async def request_join(self, alert_id: int, supervisor: Staff) -> dict[str, Any]:
        """A supervisor answers an alert: the counsellor's console is asked to grant them the key."""
        if not permissions.allowed(supervisor.role, "supervise.act"):
            raise ProtocolError("forbidden", "Only supervisors join chats.")
        async with self.chat._write() as db:
            alert = await db.get(Alert, alert_id)
            if alert is None or alert.conversation_id is None:
                raise ProtocolError("not_found", "No such alert.")
            conv = await repo.get_conversation(db, alert.conversation_id)
            if conv is None or conv.state != ConversationState.ACTIVE or conv.counsellor_id is None:
                raise ProtocolError("bad_state", "This chat is no longer active.")
            if alert.handled_at is None:
                alert.handled_at, alert.handled_by = utcnow(), supervisor.id
            holder = await repo.staff_by_id(db, conv.counsellor_id)
            await audit.record(db, supervisor.participant_id, "chat.join_request", f"conv:{conv.id}",
                               {"alert": alert_id})
        assert holder is not None
        await self.to_staff(holder.participant_id, {"type": "join_request", "conv": conv.id, "alert": alert_id,
                                                    "supervisor": card_of(supervisor)})
        await self.to_staff("role:supervisor", {"type": "alert_handled", "alert": alert_id,
                                                "by": supervisor.display_name})
        return {"conv": conv.id}

    async def grant(self, conv_id: str, staff: Staff, to: str, key: str) -> dict[str, Any]:
        """The holder's console wrapped the key for a supervisor: store it; the supervisor joins visibly."""
        async with self.chat._write() as db:
            conv = await self._active_member(db, conv_id, staff)
            target = await self._colleague(db, to)
            if not permissions.allowed(target.role, "supervise.act"):
                raise ProtocolError("forbidden", "Access is granted only to supervisors.")
            assert staff.public_key is not None
            await repo.set_key(db, conv_id, target.participant_id, key, staff.public_key)
            await repo.grant(db, conv_id, target.id, staff.id)
            await audit.record(db, staff.participant_id, "chat.grant", f"conv:{conv_id}",
                               {"to": target.participant_id})
            child_key = await repo.get_key(db, conv_id, CHILD)
            frame = {"type": "granted", "conv": conv_id, "key": key, "wrapper_public_key": staff.public_key,
                     "child_public_key": child_key.wrapper_public_key if child_key else None,
                     "prechat": prechat_of(conv), "last_seq": conv.last_seq, "from": staff.display_name}
        await self.to_staff(target.participant_id, frame)
        await self._to_conversation(conv_id, "others:" + CHILD, {
            "type": "joined", "conv": conv_id, "role": "supervisor", "name": target.display_name,
            "id": target.participant_id})
        await self._to_conversation(conv_id, CHILD, {"type": "joined", "conv": conv_id, "role": "supervisor"})
        return {}

    async def assign(self, conv_id: str, supervisor: Staff, to: str) -> dict[str, Any]:
        """A supervisor gives a waiting chat to a named counsellor; the child's page wraps the key."""
        if not permissions.allowed(supervisor.role, "supervise.act"):
            raise ProtocolError("forbidden", "Only supervisors assign chats.")
        async with self.chat._write() as db:
            conv = await repo.get_conversation(db, conv_id)
            if conv is None:
                raise ProtocolError("not_found", "No such conversation.")
            self.chat._transition(conv.state, ConversationState.ACTIVE)
            target = await self._colleague(db, to)
            if not permissions.allowed(target.role, "chat.accept"):
                raise ProtocolError("forbidden", "This colleague does not take chats.")
            limit = target.max_chats or self.chat.settings.max_chats
            if await repo.count_held(db, target.id) >= limit:
                raise ProtocolError("busy", f"{target.display_name} already holds {limit} chats.")
            if not await repo.claim(db, conv_id, target.id):
                raise ProtocolError("bad_state", "Another counsellor has just taken this chat.")
            await audit.record(db, supervisor.participant_id, "chat.assign", f"conv:{conv_id}",
                               {"to": target.participant_id})
            await db.refresh(conv)
            child_key = await repo.get_key(db, conv_id, CHILD)
        await self.to_staff(target.participant_id, {
            "type": "assigned_to_you", "conv": conv_id, "by": supervisor.display_name,
            "child_public_key": child_key.wrapper_public_key if child_key else None,
            "prechat": prechat_of(conv), "last_seq": conv.last_seq})
        await self._to_conversation(conv_id, CHILD, {"type": "assigned", "conv": conv_id,
                                                     "counsellor": child_card(target)})
        await self.broker.publish("queue", {"k": "queue"})
        return {}

    # -- block and status ----------------------------------------------------------------------

    async def block(self, conv_id: str, staff: Staff, reason: str) -> dict[str, Any]:
        """Ends an abusive contact and refuses new chats from the same resume identity."""
        async with self.chat._write() as db:
            conv = await self._active_member(db, conv_id, staff)
            target = self.chat._transition(conv.state, ConversationState.ENDED)
            await repo.finish(db, conv_id, conv.state, target, "staff")
            child = await db.get(ChildIdentity, conv.child_id)
            assert child is not None
            child.blocked_at, child.block_reason = utcnow(), reason
            await audit.record(db, staff.participant_id, "chat.block", f"conv:{conv_id}", {"reason": reason})
        await self._to_conversation(conv_id, "all", {"type": "ended", "conv": conv_id, "state": target,
                                                     "by": "staff", "blocked": True})
        return {"state": target}

    async def set_status(self, staff: Staff, status: str) -> dict[str, Any]:
        async with self.chat._write() as db:
            row = await db.get(Staff, staff.id)
            assert row is not None
            row.status = status
        staff.status = status
        await self.to_staff("role:supervisor", {"type": "team_changed"})
        return {"status": status}

    async def open_alerts(self) -> list[dict[str, Any]]:
        async with self.chat._read() as db:
            rows = (await db.execute(select(Alert, Staff, Conversation)
                                     .join(Staff, Staff.id == Alert.raised_by, isouter=True)
                                     .join(Conversation, Conversation.id == Alert.conversation_id, isouter=True)
                                     .where(Alert.handled_at.is_(None)).order_by(Alert.created_at))).all()
        return [alert_frame(alert, staff, conv) for alert, staff, conv in rows]


def alert_frame(alert: Alert, staff: Staff | None, conv: Conversation | None) -> dict[str, Any]:
    return {"type": "alert", "alert": alert.id, "kind": alert.kind, "conv": alert.conversation_id,
            "from": staff.display_name if staff else None, "at": int(alert.created_at.timestamp() * 1000),
            "urgency": conv.urgency if conv else None,
            # raised by a waiting child ("I am in danger now", chat/waiting.py): no holder to join yet
            "waiting": alert.raised_by is None and conv is not None and conv.state in ("queued", "message")}
