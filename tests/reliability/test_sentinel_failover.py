"""Redis Sentinel (issue 21): the Redis master is killed mid-chat, the Sentinels promote its
replica, and the two Helpline processes carry on through the new master; no message is lost or
repeated on either side.

A private Redis master, its replica and three Sentinels run on free ports for this test only; the
shared Redis is not touched. HELPLINE_REDIS_URL is the redis+sentinel:// form of docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.test_chat_e2e import PRECHAT, eventually
from tests.integration.test_scale_out import CountingChild, CountingStaff
from tests.pgbouncer import require_binary
from tests.reliability.test_faults import stored_client_ids
from tests.support import ServerProcess, add_user, destroy_stack, free_port, make_stack

pytestmark = pytest.mark.slow

SERVICE = "helpline"


class RedisSet:
    """A master, one replica and three Sentinels (quorum 2), each a process of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = require_binary("redis-server", "redis-server")
        self.sentinel = require_binary("redis-sentinel", "redis-sentinel")
        self.master, self.replica = free_port(), free_port()
        self.sentinels = [free_port() for _ in range(3)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinels) + f"/{SERVICE}"

    def _spawn(self, port: int, command: list[str]) -> None:
        with (self.folder / f"redis-{port}.log").open("ab") as log:
            self.processes[port] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    def start(self) -> None:
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self._spawn(self.master, [self.server, "--port", str(self.master), *common, "--dbfilename", "master.rdb"])
        self._spawn(self.replica, [self.server, "--port", str(self.replica), *common, "--dbfilename", "replica.rdb",
                                   "--replicaof", "127.0.0.1", str(self.master)])
        until(lambda: self.client(self.replica).info("replication").get("master_link_status") == "up",
              "the replica did not catch up with the master")
        for port in self.sentinels:  # after the replica is up: a Sentinel's first INFO then names it
            config = self.folder / f"sentinel-{port}.conf"
            config.write_text("\n".join([
                f"port {port}", "bind 127.0.0.1", f"dir {self.folder}",
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.master} 2",
                f"sentinel down-after-milliseconds {SERVICE} 1000",
                f"sentinel failover-timeout {SERVICE} 4000", ""]), encoding="utf-8")
            self._spawn(port, [self.sentinel, str(config)])
        for port in self.sentinels:
            until(lambda p=port: self._knows_everyone(p), "the Sentinels did not find the replica and each other")

    def _knows_everyone(self, port: int) -> bool:
        try:
            sentinel = self.client(port)
            return (len(sentinel.execute_command("SENTINEL", "REPLICAS", SERVICE)) == 1
                    and len(sentinel.execute_command("SENTINEL", "SENTINELS", SERVICE)) == 2)
        except redis.RedisError:
            return False

    def master_port(self) -> int:
        """The master's port as the Sentinels say it (each one asked: all must agree)."""
        answers = {int(self.client(p).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)[1])
                   for p in self.sentinels}
        return answers.pop() if len(answers) == 1 else 0

    def kill(self, port: int) -> None:
        self.processes[port].kill()
        self.processes[port].wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    @staticmethod
    def client(port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=2)


def until(check: Any, failure: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError(failure)


@pytest.fixture
def redis_set(tmp_path: Path) -> Iterator[RedisSet]:
    folder = tmp_path / "redis"
    folder.mkdir()
    made = RedisSet(folder)
    try:
        made.start()
        yield made
    finally:
        made.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_the_master_dies_mid_chat_and_the_promoted_replica_carries_on(
        tmp_path: Path, redis_set: RedisSet) -> None:
    stack = make_stack("postgres", tmp_path, {"HELPLINE_REDIS_URL": redis_set.url})
    try:
        child_side, staff_side = ServerProcess(stack).start(), ServerProcess(stack).start()
        stack.servers += [child_side, staff_side]
        password = add_user(stack, "ana")
        child = CountingChild(child_side.url, stack.org_public_key)  # the child on one process,
        await child.connect()
        conv = await child.start(PRECHAT)
        staff = CountingStaff(staff_side.url, "ana", password)  # the counsellor on the other
        await staff.sign_in()
        await staff.connect()
        await staff.accept(conv)
        await staff.wait_for_key(conv)
        await eventually(lambda: child.conv_key is not None)
        sent: dict[str, list[str]] = {"child": [], "staff": []}
        done = asyncio.Event()

        async def chatter() -> None:
            n = 0
            while not done.is_set():  # each side's frame ids are its own; a refusal would fail the test
                await child.say(f"fëmija {n}", frame_id=f"c{n}")
                sent["child"].append(f"fëmija {n}")
                await staff.say(conv, f"këshilltari {n}", frame_id=f"s{n}")
                sent["staff"].append(f"këshilltari {n}")
                n += 1
                await asyncio.sleep(0.05)

        talking = asyncio.create_task(chatter())
        await eventually(lambda: len(sent["staff"]) >= 10)
        redis_set.kill(redis_set.master)
        await asyncio.to_thread(until, lambda: redis_set.master_port() == redis_set.replica,
                                "the Sentinels did not promote the replica")
        # Both processes listen on the promoted master again (their keep-alive channel is subscribed there).
        alive = (stack.redis_prefix + "_alive").encode()
        await asyncio.to_thread(until, lambda: dict(redis_set.client(redis_set.replica).pubsub_numsub(alive))
                                .get(alive) == 2, "the processes did not subscribe on the new master")
        promoted_at = len(sent["staff"])
        await eventually(lambda: len(sent["staff"]) >= promoted_at + 10, 15)
        done.set()
        await asyncio.wait_for(talking, 10)

        count = len(sent["child"])
        await eventually(lambda: len(staff.arrivals.get(conv, [])) >= count and len(child.arrivals) >= count, 15)
        await asyncio.sleep(1.5)  # a repeat, if there were one, would arrive now (the degraded poll runs each second)
        for arrivals in (staff.arrivals[conv], child.arrivals):
            assert arrivals == sorted(set(arrivals)), "a message arrived twice or out of order"
            assert len(arrivals) == count
        assert [m.text for m in sorted(staff.received[conv].values(), key=lambda m: m.seq)
                if m.sender == "child"] == sent["child"]
        assert [m.text for m in sorted(child.received.values(), key=lambda m: m.seq)
                if m.sender != "child"] == sent["staff"]
        stored = await stored_client_ids(stack, conv)
        assert len(stored) == len(set(stored)) == 2 * count
        await child.close()
        await staff.close()
        for server in stack.servers:
            assert "Traceback" not in server.log()
    finally:
        destroy_stack(stack)
