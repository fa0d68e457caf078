"""Load driver: N child/counsellor pairs over real WebSockets with real NaCl, open-loop at rate R.

    python benchmarks/load.py --pairs 200 --rate 400 --duration 30 --backend sqlite
    python benchmarks/load.py --pairs 200 --rate 400 --duration 30 --backend postgres --workers 2
    python benchmarks/load.py --pairs 20 --rate 40 --duration 10 --flood 500 --pow-threshold 30

It starts its own `helpline serve` on a fresh database (tests.support.make_stack), signs in a few
counsellors, opens every pair, then sends messages at a fixed total rate whatever the server's
speed (open loop), half from children and half from counsellors. Latency is sender send → receiver
decrypt, measured on this machine's monotonic clock. Prints JSON and one Markdown table row.

Latency is also measured inside the server (HELPLINE_TIMING_FILE, helpline/timing.py): from the
moment a process starts handling a `send` frame to the moment the message is written to the other
side's socket, persistence included ("server p50/p95/p99"), and from a counsellor's `accept` frame
to the child's `assigned` frame (queue pick-up).

--idle N first connects N children who start a chat and wait in the queue, and reports the
server's memory per idle connection from them alone; --hold S keeps everything open S seconds
after the sends (the budget's 5-minute hold), then checks every socket still answers a ping.

--arrivals N: while the sends run, N more children arrive evenly over --arrival-seconds (10 by
default, the budget's "1,000 children connecting within 10 s"), open loop; each connects and starts
a chat. Reported: how long until the last one was in the queue, and each one's connect → start-ack.

--flood N then plays a flood (docs/adr/0011-flood-guard.md): N scripted children that skip the
proof of work try to start chats; the first --pow-threshold get in, and the rest must be refused.
Ten honest children (ChildClient solves the puzzle) then start, and their solving time is reported.

--flood with no number is the attacker run instead (benchmarks/flood.py): one process per core
solving proofs of work as fast as it can for 60 s, a real child in Chromium meanwhile, and the
child's solving time on a phone-speed CPU (Chromium CPU throttling ×4) at each difficulty.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpline import gc_tuning  # noqa: E402
from tests.chat_client import ChildClient, FrameError, StaffClient  # noqa: E402
from tests.support import ServerProcess, add_user, destroy_stack, make_stack  # noqa: E402

TEXT = "Përshëndetje, si je sot? " * 8  # about 200 bytes of realistic Albanian text


@dataclass
class Result:
    backend: str
    workers: int
    pairs: int
    rate: float
    duration: float
    chats_held: int = 0
    sent: int = 0
    delivered: int = 0
    errors: int = 0
    messages_per_second: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    rss_per_connection_kib: float = 0.0
    idle: int = 0
    idle_connect_seconds: float = 0.0
    rss_per_idle_connection_kib: float = 0.0
    server_p50_ms: float = 0.0
    server_p95_ms: float = 0.0
    server_p99_ms: float = 0.0
    pickup_p99_ms: float = 0.0  # server side, every accept (the set-up's burst of them included)
    pickups_under_load: int = 0
    pickup_under_load_p99_ms: float = 0.0  # the driver's clock: accept sent → `assigned` decrypted
    server_pickup_under_load_p99_ms: float = 0.0  # the server's: accept in → `assigned` written
    arrivals: int = 0  # children who arrived during the sends and got into the queue
    arrivals_seconds: float = 0.0  # first arrival → the last one's start acknowledged
    arrival_p50_ms: float = 0.0
    arrival_p99_ms: float = 0.0
    hold_seconds: float = 0.0
    held_after_hold: int = 0
    server_cpu_us_per_message: float = 0.0
    database_cpu_us_per_message: float = 0.0  # PostgreSQL's backends for this database (0 on SQLite)
    driver_cpu_us_per_message: float = 0.0  # this process, to show how much of the 2 cores it took
    setup_seconds: float = 0.0
    gc_pauses: dict[str, list[float]] = field(default_factory=dict)  # by generation: count, max ms, total ms
    slowest_second: list[float] = field(default_factory=list)  # seconds into the sends, its slowest message (ms)
    slowest_by_second: list[float] = field(default_factory=list)  # each second of the sends: its slowest message (ms)
    sends_after_sign_in: float = 0.0  # seconds from the counsellors' sign-in to the first send
    startup_seconds: float = 0.0  # `helpline serve` started → first /healthz answered
    flood_sent: int = 0
    flood_queued: int = 0
    flood_refused: int = 0
    honest_through: int = 0
    pow_ms_p50: float = 0.0
    command: str = ""
    date: str = ""
    machine: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)

    def markdown(self) -> str:
        return (f"| {self.backend} ×{self.workers} | {self.pairs} + {self.idle} idle | {self.rate:g} | "
                f"{self.server_p50_ms:.2f} / {self.server_p95_ms:.2f} / {self.server_p99_ms:.2f} | "
                f"{self.p50_ms:.1f} / {self.p95_ms:.1f} / {self.p99_ms:.1f} | {self.pickup_p99_ms:.1f} | "
                f"{self.messages_per_second:.0f} | {self.rss_per_idle_connection_kib:.1f} | "
                f"{self.rss_per_connection_kib:.1f} | {self.server_cpu_us_per_message:.0f} | {self.errors} | "
                f"`{self.command}` | {self.date} | {self.machine} |")


def _proc_tree(pid: int) -> list[int]:
    """The server process and its children (uvicorn workers)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def rss_kib(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += float(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


async def database_cpu(stack: Any) -> dict[int, float]:
    """PostgreSQL: CPU seconds so far of each backend process serving this stack's database (the
    server's queries run there, not in the server's own processes). Empty on SQLite."""
    if stack.backend != "postgres":
        return {}
    import asyncpg

    conn = await asyncpg.connect(stack.direct_postgres_dsn, timeout=5)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid()")
    finally:
        await conn.close()
    return {int(row["pid"]): cpu_seconds([int(row["pid"])]) for row in rows}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def quiet(client: ChildClient | StaffClient) -> None:
    """The driver reads frames only through the clients' own handlers: keeping every queue frame
    for thousands of sockets that never read them took gigabytes."""
    assert client.socket is not None
    client.socket.keep_events = False


async def waiting_child(server: ServerProcess, org_key: bytes, topic: str) -> ChildClient:
    """A child who has connected and started a chat, now in the queue."""
    client = ChildClient(server.url, org_key)
    await client.connect()
    quiet(client)
    await client.start({"who": "child", "topic": topic})
    return client


async def open_pairs(server: ServerProcess, org_key: bytes, staff_accounts: list[tuple[str, str]],
                     pairs: int) -> list[tuple[ChildClient, StaffClient, str]]:
    """Signs each counsellor in once, then opens one child and one counsellor socket per pair.

    Every counsellor socket is open before any chat is accepted, so each follows only the chat it
    accepts itself. (A socket opened later would follow every chat its account already holds, as a
    second console of the same person does: with a few accounts shared by many sockets that turns
    one message into dozens of deliveries, which is not the load being measured.)"""
    signed: list[StaffClient] = []
    for username, password in staff_accounts:
        client = StaffClient(server.url, username, password)
        await client.sign_in()
        signed.append(client)
    opened: list[tuple[ChildClient, StaffClient, str]] = []

    children: list[tuple[ChildClient, str]] = []
    counsellors: list[StaffClient] = []

    async def child() -> None:
        client = await waiting_child(server, org_key, "online")
        assert client.conv is not None
        children.append((client, client.conv))

    async def counsellor(index: int) -> None:
        template = signed[index % len(signed)]
        staff = StaffClient(server.url, template.username, template.password)
        staff.cookies, staff.csrf, staff.participant = template.cookies, template.csrf, template.participant
        staff.private_key = template.private_key
        await staff.connect()
        quiet(staff)
        counsellors.append(staff)

    async def accept(index: int) -> None:
        (child_client, conv), staff = children[index], counsellors[index]
        await staff.accept(conv)
        await staff.wait_for_key(conv, timeout=60)
        opened.append((child_client, staff, conv))

    batch = 50
    for step in (lambda i: child(), counsellor, accept):
        for start in range(0, pairs, batch):
            await asyncio.gather(*(step(i) for i in range(start, min(pairs, start + batch))))
    return opened


async def drive(result: Result, opened: list[tuple[ChildClient, StaffClient, str]]) -> None:
    """Open loop: one send every 1/R seconds, round robin over pairs, alternating direction."""
    latencies: list[float] = []
    sent_at: dict[str, float] = {}

    def time_deliveries(client: ChildClient | StaffClient) -> None:
        """Wraps the client's own event handling (which decrypts) to stamp each arrival."""
        decrypt = client._on_event

        async def on_event(frame: dict[str, Any]) -> None:
            await decrypt(frame)
            if frame.get("type") == "msg" and frame.get("cid") in sent_at:
                latencies.append(time.monotonic() - sent_at.pop(frame["cid"]))

        assert client.socket is not None
        client.socket.on_event = on_event

    for child, staff, _conv in opened:
        time_deliveries(child)
        time_deliveries(staff)

    async def send_one(n: int) -> None:
        child, staff, conv = opened[n % len(opened)]
        frame_id = f"load-{n}"
        sent_at[frame_id] = time.monotonic()
        try:
            if n % 2:
                await staff.say(conv, TEXT, frame_id=frame_id)
            else:
                await child.say(TEXT, frame_id=frame_id)
            result.sent += 1
        except Exception:  # noqa: BLE001 - every failure is counted and reported
            result.errors += 1
            sent_at.pop(frame_id, None)

    tasks = []
    interval = 1.0 / result.rate
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < result.duration:
        due = start + n * interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send_one(n)))
        n += 1
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + 10
    while sent_at and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a dict filled by readers
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - start
    result.errors += len(sent_at)  # sent but never delivered
    result.delivered = len(latencies)
    result.messages_per_second = result.delivered / elapsed
    ms = [v * 1000 for v in latencies]
    result.p50_ms, result.p95_ms, result.p99_ms = (percentile(ms, 0.5), percentile(ms, 0.95),
                                                   percentile(ms, 0.99))
    result.latencies = ms


async def open_idle(server: ServerProcess, org_key: bytes, count: int) -> list[ChildClient]:
    """Children who start a chat and wait in the queue, opened 200 at a time."""
    idle: list[ChildClient] = []

    async def one() -> None:
        idle.append(await waiting_child(server, org_key, "other"))

    batch = 200
    for start in range(0, count, batch):
        await asyncio.gather(*(one() for _ in range(start, min(count, start + batch))))
    return idle


def server_timings(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """What each server process kept (helpline/timing.py): (arrival on the shared monotonic
    clock, duration in milliseconds) for each kind."""
    merged: dict[str, list[tuple[float, float]]] = {}
    for path in folder.glob("timing.*.json"):
        for kind, values in json.loads(path.read_text(encoding="utf-8")).items():
            merged.setdefault(kind, []).extend((start, seconds * 1000) for start, seconds in values)
    return merged


async def pick_up(result: Result, server: ServerProcess, account: tuple[str, str], idle: list[ChildClient],
                  rate: float, duration: float) -> None:
    """While the sends run: one counsellor accepts waiting children at ``rate`` per second; each
    pick-up is timed from the accept frame to the child's `assigned` frame (both sides here)."""
    staff = StaffClient(server.url, *account)
    await staff.sign_in()
    await staff.connect()
    quiet(staff)
    timed: list[float] = []
    began = time.monotonic()
    while idle and time.monotonic() - began < duration:
        child = idle.pop()
        assigned = asyncio.Event()
        handle = child._on_event

        async def on_event(frame: dict[str, Any], handle: Any = handle, assigned: asyncio.Event = assigned) -> None:
            await handle(frame)
            if frame.get("type") == "assigned":
                assigned.set()

        assert child.socket is not None and child.conv is not None
        child.socket.on_event = on_event
        sent = time.monotonic()
        try:
            await staff.accept(child.conv)
            await asyncio.wait_for(assigned.wait(), 10)
            timed.append((time.monotonic() - sent) * 1000)
        except Exception:  # noqa: BLE001 - every failure is counted and reported
            result.errors += 1
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - sent)))
    result.pickups_under_load = len(timed)
    result.pickup_under_load_p99_ms = percentile(timed, 0.99)
    await staff.close()


async def arrive(result: Result, server: ServerProcess, org_key: bytes, count: int,
                 seconds: float) -> list[ChildClient]:
    """While the sends run: ``count`` children arrive evenly over ``seconds`` whatever the server's
    speed (open loop); each connects and starts a chat, timed from connect to the start's ack."""
    arrived: list[ChildClient] = []
    took: list[float] = []

    async def one() -> None:
        began = time.monotonic()
        try:
            arrived.append(await waiting_child(server, org_key, "other"))
            took.append((time.monotonic() - began) * 1000)
        except Exception:  # noqa: BLE001 - every failure is counted and reported
            result.errors += 1

    began = time.monotonic()
    tasks = []
    for index in range(count):
        await asyncio.sleep(max(0.0, began + index * seconds / count - time.monotonic()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    result.arrivals, result.arrivals_seconds = len(took), time.monotonic() - began
    result.arrival_p50_ms, result.arrival_p99_ms = percentile(took, 0.5), percentile(took, 0.99)
    return arrived


async def still_open(clients: list[Any]) -> int:
    """How many sockets answer a ping after the hold."""
    async def ping(client: Any) -> bool:
        try:
            assert client.socket is not None
            await client.socket.request({"type": "ping"}, timeout=30)
            return True
        except Exception:  # noqa: BLE001 - a socket that does not answer is counted
            return False

    answers = []
    for start in range(0, len(clients), 500):
        answers += await asyncio.gather(*(ping(c) for c in clients[start:start + 500]))
    return sum(answers)


async def flood(result: Result, server: ServerProcess, org_key: bytes, count: int) -> None:
    """Scripted starts without the proof of work, then honest ones that solve it."""
    scripted: list[ChildClient] = []

    async def one_script() -> None:
        child = ChildClient(server.url, org_key, solve_pow=False)
        scripted.append(child)
        result.flood_sent += 1
        try:
            await child.connect()
            await child.start({"who": "child"})
            result.flood_queued += 1
        except FrameError as exc:
            if exc.code == "pow_required":
                result.flood_refused += 1
            else:
                result.errors += 1
        except Exception:  # noqa: BLE001 - every failure is counted and reported
            result.errors += 1

    batch = 50
    for start in range(0, count, batch):
        await asyncio.gather(*(one_script() for _ in range(start, min(count, start + batch))))
    honest = [ChildClient(server.url, org_key) for _ in range(10)]
    for child in honest:
        await child.connect()
        await child.start({"who": "child"})
        result.honest_through += 1
    result.pow_ms_p50 = percentile([c.pow_seconds * 1000 for c in honest], 0.5)
    await asyncio.gather(*(c.close() for c in [*scripted, *honest]), return_exceptions=True)


async def run(args: argparse.Namespace) -> Result:
    result = Result(args.backend, args.workers, args.pairs, args.rate, args.duration,
                    command="python benchmarks/load.py " + " ".join(sys.argv[1:]),
                    date=dt.date.today().isoformat(),
                    machine=f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    tmp = Path(tempfile.mkdtemp(prefix="helpline-load-"))
    timings = Path(tempfile.mkdtemp(prefix="helpline-timing-"))
    window = (0.0, 0.0)  # while the sends ran, on the monotonic clock the server shares
    stack = make_stack(args.backend, tmp, {"HELPLINE_TIMING_FILE": str(timings / "timing"),
                                           "HELPLINE_MAX_CHATS": "100000", "HELPLINE_LOG_LEVEL": "WARNING",
                                           "HELPLINE_FRAMES_PER_MINUTE": "100000",
                                           "HELPLINE_NEW_CHATS_PER_MINUTE": "1000000",
                                           "HELPLINE_POW_QUEUE_THRESHOLD": str(args.pow_threshold),
                                           "HELPLINE_WORKERS": str(args.workers)})
    if args.no_redis:  # PostgreSQL with the in-process broker: what Redis itself adds (one process)
        stack.env["HELPLINE_REDIS_URL"] = ""
        result.backend += " (no Redis)"
    try:
        accounts = [(f"load{i}", add_user(stack, f"load{i}")) for i in range(max(1, min(args.pairs, 4)))]
        began = time.monotonic()
        server = ServerProcess(stack).start()
        result.startup_seconds = time.monotonic() - began
        stack.servers.append(server)
        pids = _proc_tree(server.process.pid) if server.process else []
        rss_before = rss_kib(pids)
        idle: list[ChildClient] = []
        if args.idle:
            began = time.monotonic()
            idle = await open_idle(server, stack.org_public_key, args.idle)
            result.idle, result.idle_connect_seconds = len(idle), time.monotonic() - began
            await asyncio.sleep(1)
            pids = _proc_tree(server.process.pid) if server.process else pids
            rss_idle = rss_kib(pids)
            result.rss_per_idle_connection_kib = (rss_idle - rss_before) / max(1, len(idle))
            rss_before = rss_idle
        began = time.monotonic()
        opened = await open_pairs(server, stack.org_public_key, accounts, args.pairs)
        result.setup_seconds = time.monotonic() - began
        result.chats_held = len(opened)
        await asyncio.sleep(1)
        pids = _proc_tree(server.process.pid) if server.process else pids
        result.rss_per_connection_kib = (rss_kib(pids) - rss_before) / max(1, 2 * len(opened))
        cpu_before, driver_before = cpu_seconds(pids), time.process_time()
        database_before = await database_cpu(stack)
        window = (time.monotonic(), float("inf"))
        result.sends_after_sign_in = window[0] - began  # `open_pairs` signs the counsellors in first
        picking = [*idle]
        pickups = (asyncio.create_task(pick_up(result, server, accounts[0], picking, args.pickup_rate, args.duration))
                   if idle and args.pickup_rate else None)
        arriving = (asyncio.create_task(arrive(result, server, stack.org_public_key, args.arrivals,
                                               args.arrival_seconds)) if args.arrivals else None)
        await drive(result, opened)
        if pickups is not None:
            await pickups
        window = (window[0], time.monotonic())
        arrived = await arriving if arriving is not None else []
        idle += arrived
        cpu_used = cpu_seconds(pids) - cpu_before
        result.driver_cpu_us_per_message = (time.process_time() - driver_before) * 1e6 / max(1, result.delivered)
        result.server_cpu_us_per_message = cpu_used * 1e6 / max(1, result.delivered)
        database_used = sum(seconds - database_before.get(pid, 0.0)
                            for pid, seconds in (await database_cpu(stack)).items())
        result.database_cpu_us_per_message = database_used * 1e6 / max(1, result.delivered)
        if args.hold:
            await asyncio.sleep(args.hold)
            result.hold_seconds = args.hold
            everyone: list[Any] = [*idle, *(c for c, _s, _v in opened), *(s for _c, s, _v in opened)]
            result.held_after_hold = await still_open(everyone)
            result.errors += len(everyone) - result.held_after_hold
        if args.flood:
            await flood(result, server, stack.org_public_key, args.flood)
        await asyncio.gather(*(c.close() for c, _s, _v in opened), *(s.close() for _c, s, _v in opened),
                             *(c.close() for c in idle), return_exceptions=True)
    finally:
        destroy_stack(stack)  # stops the server, which writes its timings
    kept = server_timings(timings)
    msg = [ms for _start, ms in kept.get("msg", [])]
    pickup = [ms for _start, ms in kept.get("assigned", [])]
    result.server_pickup_under_load_p99_ms = percentile(
        [ms for start, ms in kept.get("assigned", []) if window[0] <= start <= window[1]], 0.99)
    result.server_p50_ms, result.server_p95_ms, result.server_p99_ms = (
        percentile(msg, 0.5), percentile(msg, 0.95), percentile(msg, 0.99))
    result.pickup_p99_ms = percentile(pickup, 0.99)
    for kind in ("gc0", "gc1", "gc2"):
        pauses = [ms for start, ms in kept.get(kind, []) if window[0] <= start <= window[1]]
        result.gc_pauses[kind] = [len(pauses), round(max(pauses, default=0.0), 1), round(sum(pauses), 1)]
    seconds: dict[int, float] = {}
    for start, ms in kept.get("msg", []):
        if window[0] <= start <= window[1]:
            second = int(start - window[0])
            seconds[second] = max(seconds.get(second, 0.0), ms)
    if seconds:
        worst = max(seconds, key=seconds.__getitem__)
        result.slowest_second = [worst, round(seconds[worst], 1)]
        result.slowest_by_second = [round(seconds.get(second, 0.0), 1) for second in range(max(seconds) + 1)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100, help="concurrent child/counsellor pairs")
    parser.add_argument("--rate", type=float, default=200.0, help="total messages per second (open loop)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="server processes (postgres: use 2)")
    parser.add_argument("--idle", type=int, default=0, help="children waiting in the queue, opened first")
    parser.add_argument("--pickup-rate", type=float, default=5.0,
                        help="with --idle: accepts per second of waiting children during the sends")
    parser.add_argument("--arrivals", type=int, default=0,
                        help="children who arrive (connect and start) during the sends")
    parser.add_argument("--arrival-seconds", type=float, default=10.0, help="over how many seconds they arrive")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to hold every socket after the sends")
    parser.add_argument("--flood", type=int, nargs="?", const=-1, default=0,
                        help="after the run, N scripted children that skip the proof of work; with no N, the "
                             "attacker run of benchmarks/flood.py instead (every core, a child in Chromium)")
    parser.add_argument("--attack-seconds", type=float, default=60.0, help="--flood alone: how long the attack lasts")
    parser.add_argument("--child-after", type=float, default=20.0,
                        help="--flood alone: seconds into the attack when the real child opens the page")
    parser.add_argument("--phone-runs", type=int, default=10,
                        help="--flood alone: solves per difficulty on the throttled (×4) page")
    parser.add_argument("--pow-threshold", type=int, default=1_000_000,
                        help="HELPLINE_POW_QUEUE_THRESHOLD for the server (default: never)")
    parser.add_argument("--no-redis", action="store_true",
                        help="postgres, one worker, in-process broker: to compare with Redis")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if args.flood == -1:
        import flood  # benchmarks/flood.py, next to this file
        sys.exit(flood.main(args.attack_seconds, args.child_after, args.phone_runs, args.json))
    if args.no_redis and (args.backend != "postgres" or args.workers != 1):
        parser.error("--no-redis is for --backend postgres --workers 1 (it measures what Redis adds)")
    if args.workers > 1 and args.backend == "sqlite":
        parser.error("several workers need --backend postgres (Redis fans out between them)")
    gc_tuning.tune()  # the driver holds as many sockets as the server: the same long pauses (ADR 0016)
    # The driver shares the server's cores: it runs on uvloop as the server does (ADR 0042), so that
    # its own event loop takes as little of them as it can.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(run(args))
    data = {k: v for k, v in asdict(result).items() if k != "latencies"}
    print(json.dumps(data, indent=2))
    print(result.markdown())
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if result.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
