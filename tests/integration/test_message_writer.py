"""The message writer (chat/writer.py) on both databases: sends that arrive together are written in
one transaction, each conversation's numbers stay gapless and in arrival order, and a resent or
refused message in a batch is answered alone without losing its neighbours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from chat import writer
from chat.repository import StoredMessage
from helpline.db import Store, make_engine, make_sessionmaker
from helpline.models import ChildIdentity, Conversation, ConversationState, Message
from tests.support import Stack

BODY = "A" * 40  # the writer stores what ChatService.send has already checked


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[Store]:
    engine = make_engine(stack.database_url)
    made = Store(make_sessionmaker(engine), serialise_writes=stack.backend == "sqlite")
    try:
        yield made
    finally:
        await engine.dispose()


async def open_conversations(store: Store, count: int) -> list[tuple[str, int]]:
    made = []
    async with store.write() as db:
        for i in range(count):
            child = ChildIdentity(token_hash=f"{i:064x}", public_key="k" * 43)
            db.add(child)
            await db.flush()
            db.add(Conversation(id=f"conv{i}", child_id=child.id, state=ConversationState.QUEUED, last_seq=0))
            made.append((f"conv{i}", child.id))
    return made


async def stored_rows(store: Store) -> list[tuple[str, int, str]]:
    async with store.read() as db:
        rows = await db.execute(select(Message.conversation_id, Message.seq, Message.client_id)
                                .order_by(Message.conversation_id, Message.seq))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_concurrent_sends_share_a_transaction_and_keep_order(store: Store) -> None:
    convs = await open_conversations(store, 5)
    messages = writer.MessageWriter(store.engine, store)
    try:
        outcomes = await asyncio.gather(*(
            messages.write(conv, "child", f"m{n}", BODY, child_id=child, staff_id=None)
            for n in range(50) for conv, child in [convs[n % 5]]))
    finally:
        await messages.stop()
    assert all(isinstance(o, StoredMessage) for o in outcomes)
    assert messages.batches < 50, "fifty sends handed in together were written one by one"
    rows = await stored_rows(store)
    assert len(rows) == 50
    for index, (conv, _child) in enumerate(convs):
        mine = [(seq, cid) for c, seq, cid in rows if c == conv]
        assert [seq for seq, _ in mine] == list(range(1, 11))
        assert [cid for _, cid in mine] == [f"m{n}" for n in range(index, 50, 5)]  # arrival order


async def test_a_resent_and_a_refused_message_do_not_cost_their_neighbours(store: Store) -> None:
    (conv, child), (other, _other_child) = await open_conversations(store, 2)
    messages = writer.MessageWriter(store.engine, store)
    try:
        first = await messages.write(conv, "child", "once", BODY, child_id=child, staff_id=None)
        assert isinstance(first, StoredMessage) and first.seq == 1
        outcomes = await asyncio.gather(
            messages.write(conv, "child", "before", BODY, child_id=child, staff_id=None),
            messages.write(conv, "child", "once", BODY, child_id=child, staff_id=None),  # resent
            messages.write(other, "child", "not-yours", BODY, child_id=child, staff_id=None),
            messages.write(conv, "child", "after", BODY, child_id=child, staff_id=None))
    finally:
        await messages.stop()
    assert outcomes[1] == writer.DUPLICATE
    assert outcomes[2] == writer.REFUSED
    assert [o.seq for o in (outcomes[0], outcomes[3]) if isinstance(o, StoredMessage)] == [2, 3]
    assert await stored_rows(store) == [(conv, 1, "once"), (conv, 2, "before"), (conv, 3, "after")]
    async with store.read() as db:
        assert (await db.get(Conversation, conv)).last_seq == 3  # type: ignore[union-attr]
        assert (await db.get(Conversation, other)).last_seq == 0  # type: ignore[union-attr]


async def test_a_stopped_writer_refuses_rather_than_dropping(store: Store) -> None:
    (conv, child), = await open_conversations(store, 1)
    messages = writer.MessageWriter(store.engine, store)
    await messages.write(conv, "child", "m1", BODY, child_id=child, staff_id=None)
    await messages.stop()
    with pytest.raises(writer.StoreUnavailable):
        await messages.write(conv, "child", "m2", BODY, child_id=child, staff_id=None)
    assert await stored_rows(store) == [(conv, 1, "m1")]


async def test_a_value_the_database_refuses_costs_only_its_own_message(store: Store) -> None:
    (conv, child), = await open_conversations(store, 1)
    messages = writer.MessageWriter(store.engine, store)
    try:
        outcomes = await asyncio.gather(
            messages.write(conv, "child", "before", BODY, child_id=child, staff_id=None),
            messages.write(conv, "child", "huge", BODY, child_id=2**70, staff_id=None),  # beyond 64 bits
            messages.write(conv, "child", "after", BODY, child_id=child, staff_id=None),
            return_exceptions=True)
    finally:
        await messages.stop()
    assert isinstance(outcomes[1], writer.StoreRejected)
    assert [o.seq for o in (outcomes[0], outcomes[2]) if isinstance(o, StoredMessage)] == [1, 2]
    assert await stored_rows(store) == [(conv, 1, "before"), (conv, 2, "after")]


async def test_transact_commits_or_rolls_back_the_whole_unit(store: Store) -> None:
    """`transact` (a counsellor's accept runs in it): what the work raises undoes all of it."""
    (conv, _child), = await open_conversations(store, 1)
    messages = writer.MessageWriter(store.engine, store)

    def bump(db: Session, then_fail: bool) -> int:
        found = db.get(Conversation, conv)
        assert found is not None
        found.last_seq += 5
        db.flush()
        if then_fail:
            raise ValueError("refused half-way")
        return found.last_seq

    try:
        assert await messages.transact(lambda db: bump(db, then_fail=False)) == 5
        with pytest.raises(ValueError, match="half-way"):
            await messages.transact(lambda db: bump(db, then_fail=True))
        stored = await messages.write(conv, "child", "next", BODY, child_id=_child, staff_id=None)
    finally:
        await messages.stop()
    assert isinstance(stored, StoredMessage) and stored.seq == 6  # the failed +5 left nothing behind
    async with store.read() as db:
        assert (await db.get(Conversation, conv)).last_seq == 6  # type: ignore[union-attr]


async def test_two_processes_writing_the_same_chats_keep_each_numbering_gapless(store: Store, stack: Stack) -> None:
    """Two writers on their own engines, as two server processes: no deadlock, no number twice,
    no gap, and each one's messages in a conversation in the order they were handed in."""
    convs = await open_conversations(store, 5)
    other_engine = make_engine(stack.database_url)
    other = Store(make_sessionmaker(other_engine), serialise_writes=stack.backend == "sqlite")
    writers = {"a": writer.MessageWriter(store.engine, store), "b": writer.MessageWriter(other.engine, other)}
    try:
        outcomes = await asyncio.gather(*(
            writers[name].write(conv, "child", f"{name}{n:03}", BODY, child_id=child, staff_id=None)
            for n in range(60) for conv, child in [convs[n % 5]] for name in writers))
    finally:
        for made in writers.values():
            await made.stop()
        await other_engine.dispose()
    assert all(isinstance(outcome, StoredMessage) for outcome in outcomes)
    rows = await stored_rows(store)
    assert len(rows) == 120
    for conv, _child in convs:
        mine = [(seq, client) for row_conv, seq, client in rows if row_conv == conv]
        assert [seq for seq, _ in mine] == list(range(1, 25))
        for name in writers:
            ordered = [client for _seq, client in mine if client.startswith(name)]
            assert ordered == sorted(ordered)


@pytest.mark.parametrize("stack", ["postgres"], indirect=True)  # SQLite's writer has no server to lose
async def test_a_lost_kept_connection_is_replaced_and_nothing_is_written_twice(store: Store) -> None:
    """On PostgreSQL the writer keeps one connection (helpline.db.HeldConnection, ADR 0041). When
    the server ends it between batches, the next batch runs on a new connection; the same batch
    handed in again is answered as duplicates, never stored twice."""
    (conv, child), = await open_conversations(store, 1)
    messages = writer.MessageWriter(store.engine, store)
    try:
        first = await messages.write(conv, "child", "before", BODY, child_id=child, staff_id=None)
        assert isinstance(first, StoredMessage)
        async with store.write() as db:  # end every other connection to this database: the kept one too
            ended = (await db.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))).scalar_one()
        assert ended >= 1
        after = await messages.write(conv, "child", "after", BODY, child_id=child, staff_id=None)
        again = await messages.write(conv, "child", "after", BODY, child_id=child, staff_id=None)
    finally:
        await messages.stop()
    assert isinstance(after, StoredMessage) and after.seq == 2
    assert again == writer.DUPLICATE
    assert [seq for _c, seq, _id in await stored_rows(store)] == [1, 2]
