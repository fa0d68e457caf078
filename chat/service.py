"""Chat use cases: what each client frame does to the database, then who must be woken.

Web code calls these; they take the unit of work from the session factory, commit, and only then
publish a notice. A ProtocolError leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chat import duty, model, writer
from chat import repository as repo
from chat.broker import Broker
from chat.hub import STAFF_CHANNEL
from chat.model import CHILD, CounsellorCard, QueueFlow, is_open, prechat_of
from chat.protocol import Blocked, NotYours, ProtocolError
from helpline import runtime_config, timing
from helpline.crypto import CryptoError, check_ciphertext_shape, token_hash
from helpline.db import Store, StoreRejected, StoreUnavailable
from helpline.models import Conversation, ConversationState, Staff, utcnow
from helpline.security import access
from helpline.security.access import Action, Thing
from helpline.settings import Settings

log = logging.getLogger("helpline.chat")
T = TypeVar("T")

UNAVAILABLE = "Storage is unavailable; nothing was stored. Please try again."
REJECTED = "A value in this frame is not valid here; nothing was changed."


@contextmanager
def as_protocol_errors() -> Iterator[None]:
    """What the Store says, as the error frame a client gets."""
    try:
        yield
    except StoreUnavailable:
        raise ProtocolError("unavailable", UNAVAILABLE) from None
    except StoreRejected:
        raise ProtocolError("bad_frame", REJECTED) from None


class ChatService:
    def __init__(self, store: Store, broker: Broker, settings: Settings) -> None:
        self.store = store
        self.sessionmaker = store.sessionmaker
        self.broker = broker
        self.settings = settings
        self.writer = writer.MessageWriter(store.engine, store)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        with as_protocol_errors():
            async with self.store.read() as db:
                yield db

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        with as_protocol_errors():
            async with self.store.write() as db:
                yield db

    async def _transact(self, work: Callable[[Session], T]) -> T:
        """A synchronous unit of work in one hand-off (chat/writer.py MessageWriter.transact)."""
        with as_protocol_errors():
            return await self.writer.transact(work)

    # -- child -------------------------------------------------------------------------------

    async def start(self, token: bytes, public_key: str, self_key: str, prechat: dict[str, Any], *,
                    refuse: Callable[[Session], None] | None = None, guard: Callable[[Session], None] | None = None,
                    to_leave_message: bool = False) -> Conversation:
        """Opens a queued conversation, or returns the child's open one (start is idempotent). Out
        of hours only ``to_leave_message``: a chat the child writes in and leaves (ADR 0027).

        Both hooks run in the same transaction and may raise a ProtocolError: ``refuse`` first, on
        every start (a blocked device), and ``guard`` just before a new conversation is made
        (chat/abuse.py: proof of work and rate limits under a flood)."""
        hashed = token_hash(token)
        # Read before the transaction: a second connection taken while holding one is how a wave of
        # starts on PostgreSQL emptied the pool and waited on itself (docs/performance.md).
        open_now = is_open(self.settings, hours=await runtime_config.opening_hours(self.store, self.settings))

        def open_chat(db: Session) -> Conversation:
            # One transaction in one hand-off (MessageWriter.transact): in a wave of children each
            # start waits for this, and on SQLite it holds the write lock for one turn, not eight.
            # About 1.2 ms of CPU here, against 3.1 through ORM objects and flushes (performance.md).
            if refuse is not None:
                refuse(db)
            sql, conn = repo.StartSql, db.connection()  # Core statements built once: no ORM work
            child = conn.execute(sql.child, {"token_hash": hashed}).one_or_none()
            if child is not None and child.public_key != public_key:
                raise ProtocolError("forbidden", "This token belongs to another key.")
            if child is not None and child.blocked_at is not None:
                raise Blocked()
            if child is not None:
                latest: Conversation | None = db.execute(
                    repo.latest_conversation_query(child.id)).scalar_one_or_none()
                if latest is not None and latest.state in model.OPEN_STATES:
                    return latest
            if not open_now and not to_leave_message:
                raise ProtocolError("closed", "The chat is closed now.")
            if guard is not None:
                guard(db)
            now = utcnow()
            if child is None:
                new = {"token_hash": hashed, "public_key": public_key, "at": now}
                child_id, returning = conn.execute(sql.add_child, new).scalar_one(), False
            else:
                child_id = child.id
                returning = conn.execute(sql.count_conversations, {"child_id": child.id}).scalar_one() > 0
            conv = Conversation(
                id=repo.new_conversation_id(), child_id=child_id, state=ConversationState.QUEUED,
                urgency=model.urgency_from_prechat(prechat), contact_by=prechat.get("who", "child"),
                age_band=prechat.get("age_band"), gender=prechat.get("gender"),
                municipality=prechat.get("municipality"), topic=prechat.get("topic"),
                in_danger=prechat.get("danger"), returning=returning, last_seq=0, created_at=now)
            repo.add_conversation(db, conv, self_key, public_key)
            return conv

        conv = await self._transact(open_chat)
        await self.broker.publish("queue", {"k": "queue"})
        return conv

    async def is_blocked(self, token: bytes) -> bool:
        async with self._read() as db:
            child = await repo.child_by_token(db, token_hash(token))
            return child is not None and child.blocked_at is not None

    async def resume(self, token: bytes) -> tuple[Conversation, str, CounsellorCard | None]:
        """Finds the child's newest conversation; returns it, its self-wrapped key and the counsellor."""
        async with self._read() as db:
            child = await repo.child_by_token(db, token_hash(token))
            conv = await repo.latest_conversation(db, child.id) if child else None
            if child is None or conv is None:
                raise ProtocolError("not_found", "No conversation for this resume code.")
            own = await repo.get_key(db, conv.id, CHILD)
            card = await self._card(db, conv)
            return conv, own.wrapped_key if own else "", card

    async def _card(self, db: AsyncSession, conv: Conversation) -> CounsellorCard | None:
        if conv.counsellor_id is None:
            return None
        staff = await repo.staff_by_id(db, conv.counsellor_id)
        if staff is None:
            return None
        has_key = await repo.get_key(db, conv.id, staff.participant_id) is not None
        return CounsellorCard.of(staff, has_key)

    async def wrap_for(self, conv_id: str, child_id: int, participant: str, wrapped: str) -> None:
        """Stores the key the child wrapped for its assigned counsellor, and hands it over."""

        def store(db: Session) -> str:  # every new chat does this right after `assigned`: one hand-off
            conv = db.get(Conversation, conv_id)
            if conv is None or conv.child_id != child_id:
                raise ProtocolError("not_found", "No such conversation.")
            staff = db.get(Staff, conv.counsellor_id) if conv.counsellor_id is not None else None
            if staff is None or staff.participant_id != participant:
                raise ProtocolError("forbidden", "Keys may be wrapped only for the assigned counsellor.")
            child_key = db.execute(repo.key_query(conv_id, CHILD)).scalar_one_or_none()
            wrapper = child_key.wrapper_public_key if child_key else ""
            existing = db.execute(repo.key_query(conv_id, participant)).scalar_one_or_none()
            db.add(repo.key_row(existing, conv_id, participant, wrapped, wrapper))
            return wrapper

        wrapper = await self._transact(store)
        await self.broker.publish(f"conv:{conv_id}", {"k": "event", "to": participant, "frame": {
            "type": "key", "conv": conv_id, "key": wrapped, "wrapper_public_key": wrapper}})

    async def earlier(self, conv_id: str, child_id: int) -> list[dict[str, Any]]:
        """A returning child's earlier answered chats, with the keys only the child's page can open."""
        async with self._read() as db:
            await self._child_conversation(db, conv_id, child_id)
            rows = await repo.earlier_conversations(db, child_id, conv_id)
        return [{"conv": conv.id, "self_key": key.wrapped_key, "at": int(conv.created_at.timestamp() * 1000)}
                for conv, key in rows]

    async def share_earlier(self, conv_id: str, child_id: int, earlier_id: str, participant: str,
                            wrapped: str) -> None:
        """The child's page wrapped an earlier chat's key for its counsellor now: that counsellor may
        read the earlier chat and its case record (docs/adr/0008-returning-child-history.md)."""
        async with self._write() as db:
            conv = await self._child_conversation(db, conv_id, child_id)
            earlier = await self._child_conversation(db, earlier_id, child_id)
            card = await self._card(db, conv)
            if card is None or card.id != participant or conv.counsellor_id is None:
                raise ProtocolError("forbidden", "Earlier chats are shared only with the assigned counsellor.")
            if earlier.id == conv.id or earlier.accepted_at is None:
                raise ProtocolError("bad_frame", "Only an earlier answered chat can be shared.")
            child_key = await repo.get_key(db, conv_id, CHILD)
            wrapper = child_key.wrapper_public_key if child_key else ""
            await repo.set_key(db, earlier_id, participant, wrapped, wrapper)
            await repo.grant(db, earlier_id, conv.counsellor_id, conv.counsellor_id)
            frame = {"type": "history", "conv": conv_id, "earlier": earlier_id, "key": wrapped,
                     "wrapper_public_key": wrapper, "at": int(earlier.created_at.timestamp() * 1000),
                     "last_seq": earlier.last_seq}
        await self.broker.publish(STAFF_CHANNEL, {"k": "staff", "to": participant, "frame": frame})

    async def leave(self, conv_id: str, child_id: int) -> str:
        async with self._write() as db:
            conv = await self._child_conversation(db, conv_id, child_id)
            target = self._transition(conv.state, model.leave_target(conv.state))
            await repo.finish(db, conv_id, conv.state, target, CHILD)
        await self._announce_end(conv_id, target, CHILD)
        return target

    async def feedback(self, conv_id: str, child_id: int, helped: str) -> None:
        async with self._write() as db:
            conv = await self._child_conversation(db, conv_id, child_id)
            if conv.state not in (ConversationState.ENDED, ConversationState.ABANDONED):
                raise ProtocolError("bad_state", "Feedback is asked for after the chat ends.")
            if conv.feedback is not None:
                raise ProtocolError("bad_state", "Feedback was already given.")
            conv.feedback = helped

    async def _child_conversation(self, db: AsyncSession, conv_id: str, child_id: int) -> Conversation:
        conv = await repo.get_conversation(db, conv_id)
        if conv is None or conv.child_id != child_id:
            raise ProtocolError("not_found", "No such conversation.")
        return conv

    # -- staff -------------------------------------------------------------------------------

    async def accept(self, conv_id: str, staff: Staff) -> tuple[Conversation, str]:
        """Assigns a queued conversation to a counsellor within their limit of chats."""
        require_wrap_up, settings = self.settings.require_wrap_up, self.settings

        def claim(db: Session) -> tuple[Conversation, str]:
            # One transaction in one hand-off (MessageWriter.transact): under a wave of messages
            # this is what a waiting child waits for.
            conv = db.get(Conversation, conv_id)
            if conv is None:
                raise ProtocolError("not_found", "No such conversation.")
            self._transition(conv.state, ConversationState.ACTIVE)
            if require_wrap_up and db.execute(repo.pending_wrap_up_query(staff.id)).scalar_one_or_none():
                raise ProtocolError("wrap_up", "Record the case of your last chat before you take the next one.")
            limit = staff.max_chats or runtime_config.max_chats_in(db, settings)
            if db.execute(repo.count_held_query(staff.id)).scalar_one() >= limit:
                raise ProtocolError("busy", f"You already hold {limit} chats; end one first.")
            if db.execute(repo.claim_statement(conv_id, staff.id)).scalar_one_or_none() is None:
                if not db.execute(repo.may_take_chats_query(staff.id)).scalar_one():
                    raise ProtocolError("forbidden", "Your account may not take chats now; sign in again.")
                raise ProtocolError("bad_state", "Another counsellor has just taken this chat.")
            child_key = db.execute(repo.key_query(conv_id, CHILD)).scalar_one_or_none()
            db.refresh(conv)
            return conv, child_key.wrapper_public_key if child_key else ""

        conv, child_wrapper = await self._transact(claim)
        card = CounsellorCard.of(staff)
        await self.broker.publish(f"conv:{conv_id}", timing.stamp({"k": "event", "to": CHILD, "frame": {
            "type": "assigned", "conv": conv_id, "counsellor": card.as_dict()}}))
        await self.broker.publish("queue", {"k": "queue"})
        return conv, child_wrapper

    async def end(self, conv_id: str, staff: Staff) -> str:
        async with self._write() as db:
            conv = await self.staff_conversation(db, conv_id, staff)
            target = self._transition(conv.state, ConversationState.ENDED)
            await repo.finish(db, conv_id, conv.state, target, "staff")
        await self._announce_end(conv_id, target, "staff")
        return target

    async def staff_conversation(self, db: AsyncSession, conv_id: str, staff: Staff) -> Conversation:
        """The conversation if this staff member works it (holds it or was granted it: the relations
        that may read and write a conversation, helpline.security.access); NotYours otherwise."""
        conv = await repo.get_conversation(db, conv_id)
        if conv is None:
            raise ProtocolError("not_found", "No such conversation.")
        relation = access.conversation_relation(staff.id, staff.role, holder_id=conv.counsellor_id,
                                                granted=await repo.is_granted(db, conv_id, staff.id))
        if not access.may(staff.role, relation, Thing.CONVERSATION, Action.WRITE):
            raise NotYours
        return conv

    async def held(self, staff: Staff) -> list[dict[str, Any]]:
        """The conversations a staff member holds, for the console's `hello`."""
        async with self._read() as db:
            out = []
            convs = [*await repo.held_by(db, staff.id), *await repo.granted_to(db, staff.id)]
            keys = await repo.keys_for(db, [conv.id for conv in convs], (staff.participant_id, CHILD))
            for conv in convs:
                mine, child_key = keys.get((conv.id, staff.participant_id)), keys.get((conv.id, CHILD))
                out.append({"conv": conv.id, "state": conv.state, "last_seq": conv.last_seq,
                            "child_public_key": child_key.wrapper_public_key if child_key else None,
                            "key": mine.wrapped_key if mine else None,
                            "wrapper_public_key": mine.wrapper_public_key if mine else None,
                            "prechat": prechat_of(conv), "granted": conv.counsellor_id != staff.id})
            return out

    async def key_for(self, conv_id: str, participant: str) -> dict[str, Any]:
        """The participant's wrapped key for a conversation, if one was stored."""
        async with self._read() as db:
            mine = await repo.get_key(db, conv_id, participant)
        return {"key": mine.wrapped_key, "wrapper_public_key": mine.wrapper_public_key} if mine else {}

    # -- both --------------------------------------------------------------------------------

    async def send(self, conv_id: str, sender: str, client_id: str, body: str, *, child_id: int | None = None,
                   staff: Staff | None = None) -> tuple[repo.StoredMessage, bool]:
        """Stores one message once; returns it and whether it is new. Acknowledge only after this."""
        try:
            check_ciphertext_shape(body, self.settings.max_message_bytes)
        except CryptoError as exc:
            raise ProtocolError("bad_ciphertext", f"The message body is not accepted: {exc}.") from None
        with as_protocol_errors():
            outcome = await self.writer.write(conv_id, sender, client_id, body, child_id=child_id,
                                              staff_id=staff.id if staff is not None else None)
        if outcome == writer.REFUSED:
            async with self._read() as db:
                await self._explain_refused_send(db, conv_id, child_id, staff)
        if outcome == writer.DUPLICATE:
            async with self._read() as db:
                existing = await repo.message_by_client_id(db, conv_id, sender, client_id)
            if existing is None:
                raise ProtocolError("unavailable", UNAVAILABLE) from None
            return existing, False
        assert isinstance(outcome, repo.StoredMessage)
        stored = outcome
        await self.broker.publish(f"conv:{conv_id}", timing.stamp({"k": "msg", "m": stored.frame()}))
        return stored, True

    async def _explain_refused_send(self, db: AsyncSession, conv_id: str, child_id: int | None,
                                    staff: Staff | None) -> None:
        """Only on the error path: says why the guarded UPDATE in `send` matched no row."""
        if staff is not None:
            conv = await self.staff_conversation(db, conv_id, staff)
        else:
            assert child_id is not None
            conv = await self._child_conversation(db, conv_id, child_id)
        raise ProtocolError("bad_state", f"You cannot write in a conversation that is {conv.state}.")

    async def messages_after(self, conv_id: str, after: int, limit: int = 500) -> list[repo.StoredMessage]:
        async with self._read() as db:
            return await repo.messages_after(db, conv_id, after, limit)

    async def last_seq(self, conv_id: str) -> int:
        async with self._read() as db:
            conv = await repo.get_conversation(db, conv_id)
            return conv.last_seq if conv else 0

    async def queue_snapshot(self, *, places: int | None = None) -> tuple[dict[str, Any], QueueFlow, list[str]]:
        """The consoles' `queue` frame (the head of the queue, how many wait, and the server's
        clock), how fast the queue moves (chat/duty.py), and the queued ids in order for the children's places: all of
        them (``places`` None) or the first ``places``; with 0 none, and one count instead (a
        console opening under a long queue needs no more). Each item says when it was queued,
        not how long ago, so an unchanged queue gives the same items (the hub then sends consoles
        only the total, chat/hub.py)."""
        flow = QueueFlow(None, None, 0)
        ids: list[str] = []
        async with self._read() as db:
            rows = await repo.queued(db)
            messages = await duty.messages_waiting(db)
            if places != 0:
                flow, ids = await duty.queue_flow(db), await repo.queued_ids(db, places)
            if places is None or len(ids) < places:
                total = len(ids)
            else:
                total = await repo.count_queued(db)
        items = [{"conv": c.id, "urgency": c.urgency, "who": c.contact_by, "age_band": c.age_band,
                  "gender": c.gender, "municipality": c.municipality, "topic": c.topic,
                  "queued_at": repo.ms(c.created_at), "returning": c.returning_child}
                 for c in rows]
        frame = {"type": "queue", "items": items, "total": total, "at": repo.ms(utcnow()), "messages": messages}
        return frame, flow, ids

    def _transition(self, current: str, target: str) -> str:
        try:
            return model.check_transition(current, target).value
        except model.IllegalTransition as exc:
            raise ProtocolError("bad_state", str(exc)) from None

    async def abandon_empty(self, waited: dt.timedelta, by: str) -> list[str]:
        """Waiting chats older than ``waited`` in which the child wrote nothing leave the queue
        (a flood's empty chats; HELPLINE_EMPTY_CHAT_MINUTES, or a supervisor's one action).
        Each child's page is told its chat ended; consoles get one queue refresh."""
        gone: list[str] = []
        while True:
            async with self._write() as db:
                batch = await repo.abandon_empty(db, utcnow() - waited, by)
            gone += batch
            if len(batch) < repo.EMPTY_BATCH:
                break
        for conv_id in gone:
            await self.broker.publish(f"conv:{conv_id}", {"k": "event", "to": "all", "frame": {
                "type": "ended", "conv": conv_id, "state": ConversationState.ABANDONED.value, "by": by}})
        if gone:
            await self.broker.publish("queue", {"k": "queue"})
        return gone

    async def _announce_end(self, conv_id: str, state: str, by: str) -> None:
        await self.broker.publish(f"conv:{conv_id}", {"k": "event", "to": "all", "frame": {
            "type": "ended", "conv": conv_id, "state": state, "by": by}})
        await self.broker.publish("queue", {"k": "queue"})
