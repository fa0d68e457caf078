"""Every chat query: the only place that builds SQL for conversations and messages."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, inspect, literal_column, select, update
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from helpline.models import (
    Base,
    CaseRecord,
    ChildIdentity,
    Conversation,
    ConversationAccess,
    ConversationKey,
    ConversationState,
    Message,
    Staff,
    utcnow,
)
from helpline.security import access, permissions

QUEUE_ORDER = (Conversation.urgency.desc(), Conversation.created_at, Conversation.id)


@dataclass(frozen=True)
class StoredMessage:
    conv: str
    seq: int
    sender: str
    client_id: str
    body: str
    at_ms: int

    def frame(self) -> dict[str, Any]:
        return {"type": "msg", "conv": self.conv, "seq": self.seq, "from": self.sender,
                "cid": self.client_id, "body": self.body, "at": self.at_ms}


def ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch: how times travel in frames."""
    return int(moment.timestamp() * 1000)


def new_conversation_id() -> str:
    return secrets.token_urlsafe(12)


async def child_by_token(db: AsyncSession, token_hash: str) -> ChildIdentity | None:
    return (await db.execute(select(ChildIdentity).where(ChildIdentity.token_hash == token_hash))).scalar_one_or_none()


def latest_conversation_query(child_id: int) -> Any:
    return (select(Conversation).where(Conversation.child_id == child_id)
            .order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(1))


async def latest_conversation(db: AsyncSession, child_id: int) -> Conversation | None:
    return (await db.execute(latest_conversation_query(child_id))).scalar_one_or_none()


async def earlier_conversations(db: AsyncSession, child_id: int, current: str,
                                limit: int = 10) -> list[tuple[Conversation, ConversationKey]]:
    """The child's earlier conversations that were answered, newest first, with the child's own key."""
    query = (select(Conversation, ConversationKey)
             .join(ConversationKey, (ConversationKey.conversation_id == Conversation.id)
                   & (ConversationKey.participant == "child"))
             .where(Conversation.child_id == child_id, Conversation.id != current,
                    Conversation.accepted_at.is_not(None))
             .order_by(Conversation.created_at.desc()).limit(limit))
    return [(conv, key) for conv, key in await db.execute(query)]


async def get_conversation(db: AsyncSession, conv_id: str) -> Conversation | None:
    return await db.get(Conversation, conv_id)


async def set_key(db: AsyncSession, conv_id: str, participant: str, wrapped: str, wrapper_public: str) -> None:
    """Stores (or replaces) the wrapped conversation key for one participant."""
    existing = (await db.execute(key_query(conv_id, participant))).scalar_one_or_none()
    db.add(key_row(existing, conv_id, participant, wrapped, wrapper_public))
    await db.flush()


def key_row(existing: ConversationKey | None, conv_id: str, participant: str, wrapped: str,
            wrapper_public: str) -> ConversationKey:
    """The participant's key row, new or updated in place (also for synchronous sessions)."""
    if existing is None:
        return ConversationKey(conversation_id=conv_id, participant=participant, wrapped_key=wrapped,
                               wrapper_public_key=wrapper_public)
    existing.wrapped_key, existing.wrapper_public_key = wrapped, wrapper_public
    return existing


def key_query(conv_id: str, participant: str) -> Any:
    return select(ConversationKey).where(ConversationKey.conversation_id == conv_id,
                                         ConversationKey.participant == participant)


async def get_key(db: AsyncSession, conv_id: str, participant: str) -> ConversationKey | None:
    return (await db.execute(key_query(conv_id, participant))).scalar_one_or_none()


async def keys_for(db: AsyncSession, conv_ids: list[str],
                   participants: tuple[str, ...]) -> dict[tuple[str, str], ConversationKey]:
    """The wrapped keys of several conversations in one query, by (conversation, participant)."""
    if not conv_ids:
        return {}
    query = select(ConversationKey).where(ConversationKey.conversation_id.in_(conv_ids),
                                          ConversationKey.participant.in_(participants))
    return {(key.conversation_id, key.participant): key for key in (await db.execute(query)).scalars()}


def _seq_statement(*, staff: bool) -> Any:
    """UPDATE … RETURNING that checks membership and state and takes the next number at once.

    Built once with bound parameters, so each message only binds values. The UPDATE holds the
    row lock until commit, so concurrent senders in one conversation are serialised.
    """
    table = Base.metadata.tables["conversations"]
    query = update(table).where(table.c.id == bindparam("conv"))
    if staff:
        member = access.works_the_chat(bindparam("who"), table.c.counsellor_id, table.c.id)
        query = query.where(member, table.c.state == literal_column(f"'{ConversationState.ACTIVE.value}'"))
    else:  # the states are our constants, written into the SQL so it compiles once for every driver
        open_states = (ConversationState.QUEUED, ConversationState.ACTIVE, ConversationState.MESSAGE)
        states: list[Any] = [literal_column(f"'{state.value}'") for state in open_states]
        query = query.where(table.c.child_id == bindparam("who"), table.c.state.in_(states))
    return query.values(last_seq=table.c.last_seq + 1).returning(table.c.last_seq)


_CHILD_SEQ = _seq_statement(staff=False)
_STAFF_SEQ = _seq_statement(staff=True)
_INSERT_MESSAGES = insert(Base.metadata.tables["messages"])


def message_row(conv_id: str, seq: int, client_id: str, sender: str, body: str, at: dt.datetime) -> dict[str, Any]:
    return {"conversation_id": conv_id, "seq": seq, "client_id": client_id, "sender": sender, "body": body,
            "created_at": at}


@dataclass(frozen=True)
class SqliteMessageSql:
    """The same two statements compiled once for the sqlite3 module, for the SQLite writer thread,
    which runs them without SQLAlchemy's per-statement work (docs/adr/0015-message-writer.md)."""

    child_seq: str
    staff_seq: str
    insert: str
    constants: dict[str, Any]
    store_time: Callable[[dt.datetime], Any]


def sqlite_message_sql() -> SqliteMessageSql:
    dialect = sqlite_dialect(paramstyle="named")
    child, staff = _CHILD_SEQ.compile(dialect=dialect), _STAFF_SEQ.compile(dialect=dialect)
    columns = ["conversation_id", "seq", "client_id", "sender", "body", "created_at"]
    insert_sql = _INSERT_MESSAGES.compile(dialect=dialect, column_keys=columns)
    constants = {k: v for k, v in {**child.params, **staff.params}.items() if k not in ("conv", "who")}
    created_at = Base.metadata.tables["messages"].c.created_at.type
    store_time = created_at.dialect_impl(dialect).bind_processor(dialect)
    assert store_time is not None
    return SqliteMessageSql(str(child), str(staff), str(insert_sql), constants, store_time)


async def is_granted(db: AsyncSession, conv_id: str, staff_id: int) -> bool:
    """The staff member was granted the conversation (a joined supervisor; an earlier chat shared, ADR 0009)."""
    query = select(ConversationAccess.id).where(ConversationAccess.conversation_id == conv_id,
                                                ConversationAccess.staff_id == staff_id)
    return (await db.execute(query)).first() is not None


async def grant(db: AsyncSession, conv_id: str, staff_id: int, granted_by: int) -> None:
    found = (await db.execute(select(ConversationAccess).where(
        ConversationAccess.conversation_id == conv_id, ConversationAccess.staff_id == staff_id))).scalar_one_or_none()
    if found is None:
        db.add(ConversationAccess(conversation_id=conv_id, staff_id=staff_id, granted_by=granted_by,
                                  joined_at=utcnow()))
        await db.flush()


async def granted_to(db: AsyncSession, staff_id: int) -> Sequence[Conversation]:
    query = select(Conversation).where(access.granted_condition(staff_id),
                                       Conversation.state == ConversationState.ACTIVE)
    return (await db.execute(query)).scalars().all()


def pending_wrap_up_query(staff_id: int) -> Any:
    """A conversation this counsellor held to its end and has not recorded yet."""
    return (select(Conversation.id).where(
        Conversation.counsellor_id == staff_id, Conversation.state == ConversationState.ENDED,
        ~exists().where(CaseRecord.conversation_id == Conversation.id))
        .order_by(Conversation.ended_at).limit(1))


async def pending_wrap_up(db: AsyncSession, staff_id: int) -> str | None:
    return (await db.execute(pending_wrap_up_query(staff_id))).scalar_one_or_none()


async def message_by_client_id(db: AsyncSession, conv_id: str, sender: str, client_id: str) -> StoredMessage | None:
    """The message this sender stored under this client id (a resend); ids are unique per sender."""
    row = (await db.execute(select(Message).where(Message.conversation_id == conv_id, Message.sender == sender,
                                                  Message.client_id == client_id))).scalar_one_or_none()
    return _stored(row) if row else None


def _stored(row: Message) -> StoredMessage:
    return StoredMessage(row.conversation_id, row.seq, row.sender, row.client_id, row.body, ms(row.created_at))


async def messages_after(db: AsyncSession, conv_id: str, after: int, limit: int = 500) -> list[StoredMessage]:
    query = (select(Message).where(Message.conversation_id == conv_id, Message.seq > after)
             .order_by(Message.seq).limit(limit))
    return [_stored(row) for row in (await db.execute(query)).scalars()]


QUEUE_COLUMNS = (Conversation.id, Conversation.urgency, Conversation.contact_by, Conversation.age_band,
                 Conversation.gender, Conversation.municipality, Conversation.topic, Conversation.created_at,
                 Conversation.returning)  # on a plain row: returning_child, the column's name


_IS_QUEUED = Conversation.state == ConversationState.QUEUED
_QUEUED_HEAD = select(*QUEUE_COLUMNS).where(_IS_QUEUED).order_by(*QUEUE_ORDER).limit(bindparam("limit"))
_QUEUED_IDS = select(Conversation.id).where(_IS_QUEUED).order_by(*QUEUE_ORDER)
_QUEUED_IDS_UP_TO = _QUEUED_IDS.limit(bindparam("limit"))
_COUNT_QUEUED = select(func.count()).select_from(Conversation).where(_IS_QUEUED)


async def queued(db: AsyncSession, limit: int = 30) -> Sequence[Any]:
    """The head of the queue as plain rows. These two run on every queue change, the second over
    every waiting child: on the connection, so no ORM loading runs per row (docs/performance.md)."""
    return (await (await db.connection()).execute(_QUEUED_HEAD, {"limit": limit})).all()


async def queued_ids(db: AsyncSession, limit: int | None = None) -> list[str]:
    """Every queued id in queue order, or the first ``limit``."""
    conn = await db.connection()
    found = await (conn.execute(_QUEUED_IDS) if limit is None else conn.execute(_QUEUED_IDS_UP_TO, {"limit": limit}))
    return list(found.scalars())


async def count_queued(db: AsyncSession) -> int:
    return int((await db.execute(_COUNT_QUEUED)).scalar_one())


def _up_to(condition: Any) -> Any:
    """SELECT count(*) of conversations matching, but no further than :limit rows."""
    matching = select(Conversation.id).where(condition).limit(bindparam("limit")).subquery()
    return select(func.count()).select_from(matching)


def may_take_chats(staff_id: int) -> Any:
    """The staff row exists, is enabled, and its role may take chats: a condition inside the
    statements that give a chat to someone, so that a disable or role change committed a moment
    earlier in another process cannot slip past a check made before."""
    return exists().where(Staff.id == staff_id, Staff.disabled.is_(False),
                          Staff.role.in_([role.value for role in permissions.roles_for("chat.accept")]))


def may_take_chats_query(staff_id: int) -> Any:
    """True or False: why a claim found no row (the chat was taken, or the account may not)."""
    return select(may_take_chats(staff_id))


def claim_statement(conv_id: str, staff_id: int) -> Any:
    """Assigns a queued conversation; no row back if another counsellor (in any process) was
    first, or if the account is disabled or its role may not take chats."""
    return (update(Conversation)
            .where(Conversation.id == conv_id,
                   Conversation.state.in_([ConversationState.QUEUED, ConversationState.MESSAGE]),
                   may_take_chats(staff_id))
            .values(state=ConversationState.ACTIVE, counsellor_id=staff_id, accepted_at=utcnow())
            .returning(Conversation.id))


async def claim(db: AsyncSession, conv_id: str, staff_id: int) -> bool:
    return (await db.execute(claim_statement(conv_id, staff_id))).scalar_one_or_none() is not None


def count_held_query(staff_id: int) -> Any:
    return select(func.count()).select_from(Conversation).where(
        Conversation.counsellor_id == staff_id, Conversation.state == ConversationState.ACTIVE)


async def count_held(db: AsyncSession, staff_id: int) -> int:
    return int((await db.execute(count_held_query(staff_id))).scalar_one())


async def held_by(db: AsyncSession, staff_id: int) -> Sequence[Conversation]:
    query = select(Conversation).where(Conversation.counsellor_id == staff_id,
                                       Conversation.state == ConversationState.ACTIVE)
    query = query.order_by(Conversation.accepted_at)
    return (await db.execute(query)).scalars().all()


async def finish(db: AsyncSession, conv_id: str, from_state: str, to_state: str, by: str) -> bool:
    result = await db.execute(
        update(Conversation).where(Conversation.id == conv_id, Conversation.state == from_state)
        .values(state=to_state, ended_at=utcnow(), ended_by=by).returning(Conversation.id))
    return result.scalar_one_or_none() is not None


EMPTY_BATCH = 500  # rows per statement when empty chats leave the queue: short transactions under a flood

_EMPTY_QUEUED = (select(Conversation.id).where(_IS_QUEUED, Conversation.last_seq == 0,
                                               Conversation.created_at < bindparam("before"))
                 .limit(EMPTY_BATCH))


async def abandon_empty(db: AsyncSession, before: dt.datetime, by: str) -> list[str]:
    """Queued chats created before ``before`` in which the child wrote nothing become abandoned,
    at most EMPTY_BATCH at a time; returns their ids. The state and seq are checked again by the
    UPDATE itself, so a chat accepted or written in meanwhile stays as it is."""
    ids = list((await db.execute(_EMPTY_QUEUED, {"before": before})).scalars())
    if not ids:
        return []
    result = await db.execute(
        update(Conversation).where(Conversation.id.in_(ids), _IS_QUEUED, Conversation.last_seq == 0)
        .values(state=ConversationState.ABANDONED, ended_at=utcnow(), ended_by=by).returning(Conversation.id)
        .execution_options(synchronize_session=False))
    return list(result.scalars())


async def staff_by_id(db: AsyncSession, staff_id: int) -> Staff | None:
    return await db.get(Staff, staff_id)


# -- a new chat: the statements of ChatService.start, built once (it runs under every wave) ---------

class StartSql:
    """Core statements with bound parameters, built at import: each start only binds values, so
    SQLAlchemy neither rebuilds the statement nor computes its cache key again, and no ORM unit of
    work runs (docs/performance.md: a start cost about 3 ms of CPU through the ORM)."""

    child = select(ChildIdentity.id, ChildIdentity.public_key, ChildIdentity.blocked_at).where(
        ChildIdentity.token_hash == bindparam("token_hash"))
    add_child = (insert(Base.metadata.tables["child_identities"])
                 .values(token_hash=bindparam("token_hash"), public_key=bindparam("public_key"),
                         created_at=bindparam("at"))
                 .returning(Base.metadata.tables["child_identities"].c.id))
    count_conversations = select(func.count()).select_from(Conversation).where(
        Conversation.child_id == bindparam("child_id"))
    queued_up_to = _up_to(_IS_QUEUED)
    started_since_up_to = _up_to(Conversation.created_at > bindparam("since"))
    add_conversation = insert(Base.metadata.tables["conversations"])
    add_key = insert(Base.metadata.tables["conversation_keys"])


def count_up_to(db: Session, statement: Any, limit: int, **params: Any) -> int:
    """How many conversations match, counting no further than ``limit``: the flood guard asks
    only whether a limit is reached, and must not scan a whole queue or day to learn it."""
    return int(db.connection().execute(statement, {"limit": limit, **params}).scalar_one())


def add_conversation(db: Session, conv: Conversation, wrapped_key: str, wrapper_public: str) -> None:
    """Inserts a new conversation (built but not added to a session) and the child's wrapped key."""
    row = {column.key: getattr(conv, attr.key) for attr in _CONVERSATION_COLUMNS for column in attr.columns}
    conn = db.connection()  # Core statements on tables: no ORM execution layer
    conn.execute(StartSql.add_conversation, row)
    conn.execute(StartSql.add_key, {"conversation_id": conv.id, "participant": "child", "wrapped_key": wrapped_key,
                                  "wrapper_public_key": wrapper_public, "created_at": conv.created_at})


_CONVERSATION_COLUMNS = tuple(inspect(Conversation).column_attrs)
