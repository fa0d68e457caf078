"""PostgreSQL primary change (issue 21): the primary crashes mid-chat, its streaming replica is
promoted, and the Helpline processes carry on against the new primary with no restart; every
message either side saw acknowledged is there, once.

Two clusters on free ports, made with Debian's initdb and pg_basebackup and removed at the end
(tests/pg_cluster.py). The processes are given both hosts in one URL with
target_session_attrs=read-write (docs/reliability.md): asyncpg connects to whichever one takes
writes. The replica is synchronous, so a commit the primary acknowledged is on the replica too.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.chat_client import FrameError
from tests.integration.test_chat_e2e import PRECHAT, eventually
from tests.integration.test_scale_out import CountingChild, CountingStaff
from tests.pg_cluster import Cluster, wait_for_sync_standby
from tests.pgbouncer import shared_folder
from tests.support import ServerProcess, Stack, add_user, destroy_stack, make_stack

pytestmark = pytest.mark.slow

DATABASE = "helpline"


@pytest.fixture
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary with the Helpline database in it, and a synchronous streaming replica of it."""
    folder = shared_folder("helpline-promotion-")
    primary, replica = Cluster(folder, "primary"), Cluster(folder, "replica")
    try:
        primary.init_primary().start()
        asyncio.run(_create_database(primary))
        replica.clone_as_replica(primary).start()
        asyncio.run(wait_for_sync_standby(primary))
        yield primary, replica
    finally:
        for cluster in (primary, replica):
            try:
                cluster.stop("immediate")
            except RuntimeError:
                pass  # already down (the test crashed it) or never started
        shutil.rmtree(folder, ignore_errors=True)


async def _create_database(primary: Cluster) -> None:
    conn = await asyncpg.connect(primary.dsn(), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()


def both_hosts(primary: Cluster, replica: Cluster) -> str:
    return (f"postgresql+asyncpg://postgres@/{DATABASE}?host=127.0.0.1:{primary.port}"
            f"&host=127.0.0.1:{replica.port}&target_session_attrs=read-write")


async def say_until_acknowledged(say: object, text: str, frame_id: str) -> None:
    """What the pages do when the server answers `unavailable`: send the same frame again, later."""
    for _ in range(150):
        try:
            await say(text, frame_id=frame_id)  # type: ignore[operator]
            return
        except FrameError as refused:
            assert refused.code == "unavailable", refused.frame
            await asyncio.sleep(0.2)
    raise AssertionError(f"{frame_id} was never acknowledged")


async def open_pair(stack: Stack, child_side: ServerProcess,
                    staff_side: ServerProcess) -> tuple[CountingChild, CountingStaff, str]:
    password = add_user(stack, "ana")  # through the two-host URL, as an operator's CLI would
    child = CountingChild(child_side.url, stack.org_public_key)
    await child.connect()
    conv = await child.start(PRECHAT)
    staff = CountingStaff(staff_side.url, "ana", password)
    await staff.sign_in()
    await staff.connect()
    await staff.accept(conv)
    await staff.wait_for_key(conv)
    await eventually(lambda: child.conv_key is not None)
    return child, staff, conv


async def test_the_primary_crashes_mid_chat_and_the_promoted_replica_takes_over(
        tmp_path: Path, clusters: tuple[Cluster, Cluster]) -> None:
    primary, replica = clusters
    stack = make_stack("postgres", tmp_path, database_url=both_hosts(primary, replica))
    try:
        child_side, staff_side = ServerProcess(stack).start(), ServerProcess(stack).start()
        stack.servers += [child_side, staff_side]
        child, staff, conv = await open_pair(stack, child_side, staff_side)
        acked: dict[str, list[str]] = {"child": [], "staff": []}
        done = asyncio.Event()

        async def chatter() -> None:
            n = 0
            while not done.is_set():
                await say_until_acknowledged(child.say, f"fëmija {n}", f"c{n}")
                acked["child"].append(f"fëmija {n}")
                await say_until_acknowledged(lambda text, frame_id: staff.say(conv, text, frame_id),
                                             f"këshilltari {n}", f"s{n}")
                acked["staff"].append(f"këshilltari {n}")
                n += 1
                await asyncio.sleep(0.05)

        talking = asyncio.create_task(chatter())
        await eventually(lambda: len(acked["staff"]) >= 10, 20)
        await asyncio.to_thread(primary.stop, "immediate")  # a crash: no shutdown checkpoint, sockets reset
        await asyncio.to_thread(replica.promote)
        promoted_at = len(acked["staff"])
        await eventually(lambda: len(acked["staff"]) >= promoted_at + 10, 30)
        done.set()
        await asyncio.wait_for(talking, 30)

        count = len(acked["child"])
        await eventually(lambda: len(staff.arrivals.get(conv, [])) >= count and len(child.arrivals) >= count, 15)
        await asyncio.sleep(1)  # a repeat, if there were one, would arrive now
        for arrivals in (staff.arrivals[conv], child.arrivals):
            assert arrivals == sorted(set(arrivals)) and len(arrivals) == count, "lost, repeated or out of order"
        assert [m.text for m in sorted(staff.received[conv].values(), key=lambda m: m.seq)
                if m.sender == "child"] == acked["child"]
        assert [m.text for m in sorted(child.received.values(), key=lambda m: m.seq)
                if m.sender != "child"] == acked["staff"]
        conn = await asyncpg.connect(replica.dsn(DATABASE), timeout=5)  # the new primary, and only it, is up
        try:
            assert not await conn.fetchval("SELECT pg_is_in_recovery()")
            stored = await conn.fetch("SELECT client_id FROM messages WHERE conversation_id = $1 ORDER BY seq", conv)
        finally:
            await conn.close()
        assert sorted(r["client_id"] for r in stored) == sorted(f"c{n}" for n in range(count)) + \
            sorted(f"s{n}" for n in range(count))
        await child.close()
        await staff.close()
        for server in stack.servers:
            assert "Traceback" not in server.log()
    finally:
        destroy_stack(stack)
