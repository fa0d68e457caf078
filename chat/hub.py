"""This process's connections, and in-order delivery to them.

A broker notice names a conversation and carries the stored message; a connection delivers it
only if it is the next seq it owes its client, and otherwise reads the gap from the database. So
the database stays the truth and a lost or duplicated notice does no harm.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from chat import model
from chat.protocol import ProtocolError
from chat.repository import StoredMessage
from helpline import metrics, timing

if TYPE_CHECKING:
    from chat.connection import ClientConnection
    from chat.service import ChatService
    from chat.staff_connection import StaffConnection

log = logging.getLogger("helpline.hub")

STAFF_CHANNEL = "staff"  # notices for staff consoles: {"to": participant or "role:<role>", "frame": ...}
# On the same channel, {"k": "revoke", "to": participant}: that person's access changed; each of
# their sockets, in every process, reads its session and staff row again (docs/adr/0018).
REVOKE = "revoke"


def revoke_notice(participant: str) -> dict[str, Any]:
    return {"k": REVOKE, "to": participant}

QUEUE_REFRESH_DELAY = 0.2
# Each refresh writes the queue to every console in the process: with many consoles, refresh less
# often (2,000 consoles: every 1.2 s) rather than let the queue crowd out the chats' messages.
QUEUE_REFRESH_PER_CONSOLE = 0.0005
YIELD_EVERY = 64
# Between slices of a long refresh the loop gets this long to itself, not one turn: a message
# needs several turns (read, write, deliver), and one turn between slices made it wait for all.
BREATHE_SECONDS = 0.002
QUEUE_TICK_SECONDS = 15.0
# Each refresh reads the places of the first FRONT_PLACES waiting children, and every
# ALL_PLACES_SECONDS all of them: further back a place moves slowly (a child there is told when it
# moves by a twentieth), and reading 10,000 ids each time stalled the writer (docs/performance.md).
FRONT_PLACES = 1_000
ALL_PLACES_SECONDS = 10.0
DEGRADED_POLL_SECONDS = 1.0
EXPIRE_SECONDS = 30.0  # how often waiting chats with no message are looked for (more often when the limit is short)
EXPIRED = "expired"  # ended_by of a chat that left the queue empty
SWEEP_SECONDS = 10.0  # how often silent sockets are looked for (more often when the limit is short)


class Hub:
    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self._listeners: dict[str, set[ClientConnection]] = defaultdict(set)
        self._staff: set[StaffConnection] = set()
        self._open: set[ClientConnection] = set()  # every socket of this process, for the sweep
        self._tasks: set[asyncio.Task[Any]] = set()
        self._queue_refresh: asyncio.TimerHandle | None = None
        self._queue_head: list[dict[str, Any]] | None = None  # the items last sent to consoles
        self.queue_version = 0  # goes up each time those items change
        self._all_places_at = 0.0  # when every waiting child's place was last read
        self._ticker: asyncio.Task[None] | None = None
        self.presence_written: dict[int, float] = {}  # staff id -> when this process last wrote "here" (monotonic)
        chat.broker.bind(self.on_notice, self.after_outage)

    async def start(self) -> None:
        await self.chat.broker.subscribe("queue")
        await self.chat.broker.subscribe(STAFF_CHANNEL)
        self._ticker = asyncio.create_task(self._tick(), name="hub-ticker")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for conn in list(self._staff) + [c for conns in self._listeners.values() for c in conns]:
            await conn.push({"type": "reconnect"})

    # -- registration --------------------------------------------------------------------------

    async def watch(self, conv_id: str, conn: ClientConnection) -> None:
        listeners = self._listeners[conv_id]
        if not listeners:
            await self.chat.broker.subscribe(f"conv:{conv_id}")
        listeners.add(conn)

    async def unwatch(self, conv_id: str, conn: ClientConnection) -> None:
        listeners = self._listeners.get(conv_id)
        if listeners is None:
            return
        listeners.discard(conn)
        if not listeners:
            del self._listeners[conv_id]
            await self.chat.broker.unsubscribe(f"conv:{conv_id}")

    def opened(self, conn: ClientConnection) -> None:
        self._open.add(conn)
        metrics.socket_opened(conn.is_child)

    def closed(self, conn: ClientConnection) -> None:
        if conn in self._open:
            self._open.discard(conn)
            metrics.socket_closed(conn.is_child)

    def add_staff(self, conn: StaffConnection) -> None:
        self._staff.add(conn)

    def remove_staff(self, conn: StaffConnection) -> None:
        self._staff.discard(conn)

    def listeners(self, conv_id: str) -> set[ClientConnection]:
        return self._listeners.get(conv_id, set())

    # -- notices -------------------------------------------------------------------------------

    async def on_notice(self, channel: str, notice: dict[str, Any]) -> None:
        if channel == "queue":
            self.schedule_queue_refresh()
            return
        if channel == STAFF_CHANNEL:
            if notice.get("k") == REVOKE:
                for console in list(self._staff):
                    if console.participant == notice.get("to"):
                        self._spawn(console.timed_recheck())
                return
            for console in list(self._staff):
                if console.wants_staff(notice.get("to", "")):
                    self._spawn(console.on_staff_event(notice["frame"]))
            return
        if not channel.startswith("conv:"):
            return
        conv_id = channel[5:]
        for conn in list(self._listeners.get(conv_id, ())):
            if notice.get("k") == "msg":
                self._spawn(self._deliver(conn, notice))
            elif notice.get("k") == "event" and conn.wants(notice.get("to", "all"), notice["frame"]):
                self._spawn(self._event(conn, notice))

    @staticmethod
    async def _deliver(conn: ClientConnection, notice: dict[str, Any]) -> None:
        m = notice["m"]
        if await conn.deliver(StoredMessage(m["conv"], m["seq"], m["from"], m["cid"], m["body"], m["at"])):
            timing.written("msg", notice)
            metrics.delivered(m["at"])

    @staticmethod
    async def _event(conn: ClientConnection, notice: dict[str, Any]) -> None:
        await conn.on_event(notice["frame"])
        timing.written(notice["frame"].get("type", "event"), notice)

    async def resync(self) -> None:
        """After a broker outage: every local listener catches up from the database."""
        for conv_id, conns in list(self._listeners.items()):
            for conn in list(conns):
                self._spawn(conn.catch_up(conv_id))
        self.schedule_queue_refresh()

    async def after_outage(self) -> None:
        """The broker is back: what resync does, and every console socket reads its session and
        staff row again, since a revocation notice may have been lost with the rest."""
        await self.resync()
        for console in list(self._staff):
            self._spawn(console.timed_recheck())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- queue ---------------------------------------------------------------------------------

    def schedule_queue_refresh(self) -> None:
        """Coalesces bursts of queue changes into one query per process."""
        if self._queue_refresh is None:
            loop = asyncio.get_running_loop()
            delay = QUEUE_REFRESH_DELAY + QUEUE_REFRESH_PER_CONSOLE * len(self._staff)
            self._queue_refresh = loop.call_later(delay, self._run_queue_refresh)

    def _run_queue_refresh(self) -> None:
        self._queue_refresh = None
        self._spawn(self.refresh_queue())

    async def refresh_queue(self) -> None:
        read_all = time.monotonic() - self._all_places_at >= ALL_PLACES_SECONDS
        try:
            frame, flow, ids = await self.chat.queue_snapshot(places=None if read_all else FRONT_PLACES)
        except ProtocolError:
            return
        if read_all:
            self._all_places_at = time.monotonic()
        head = [*frame["items"], *frame["messages"]]  # a left message answered or added is news too
        if head != self._queue_head:
            self._queue_head = head
            self.queue_version += 1
        total, version = frame["total"], self.queue_version
        metrics.queue_waiting.set(total)
        # A console is sent the head of the queue only when it changed since that console last
        # saw it; otherwise only the total, and nothing when that is the same too. With 2,000
        # consoles, 30 items each time would be megabytes a second for nothing.
        full = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)  # once, not once per console
        short = json.dumps({"type": "queue", "total": total}, separators=(",", ":"))
        for index, console in enumerate(list(self._staff), start=1):
            if console.queue_seen != version:
                console.queue_seen, console.queue_total = version, total
                self._spawn(console.push_text(full))
            elif console.queue_total != total:
                console.queue_total = total
                self._spawn(console.push_text(short))
            # Thousands of consoles or waiting children: hand the loop back every few dozen, so
            # the chats' messages are not held up behind one long refresh.
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(BREATHE_SECONDS)
        told = 0
        for position, conv_id in enumerate(ids, start=1):
            for conn in self._listeners.get(conv_id, ()):
                if not conn.is_child:
                    continue
                wait = model.estimate_wait_seconds(position, flow)
                shown = (position, -1 if wait is None else wait)
                if model.worth_telling(conn.shown_position, shown):
                    conn.shown_position = shown
                    self._spawn(conn.push(self.position_frame(conv_id, position, wait)))
                    told += 1
                    if told % YIELD_EVERY == 0:  # each frame costs as much as a console's
                        await asyncio.sleep(BREATHE_SECONDS)
            if position % (YIELD_EVERY * 16) == 0:
                await asyncio.sleep(BREATHE_SECONDS)

    def position_frame(self, conv_id: str, position: int, wait: int | None) -> dict[str, Any]:
        """A waiting child's place and wait; ``on_duty`` False (no wait) when nobody can answer, and
        ``offer_message`` when the page should offer our number and a message (ADR 0027)."""
        offer = model.offer_message(wait, self.chat.settings.message_offer_minutes)
        return {"type": "position", "conv": conv_id, "position": position, "wait_seconds": wait,
                "on_duty": wait is not None, "offer_message": offer}

    async def _tick(self) -> None:
        """Keeps waits fresh, closes silent sockets, and while the broker is down polls the
        database for missed messages."""
        elapsed = 0.0
        silent_limit = float(self.chat.settings.silent_seconds)
        sweep_every = min(SWEEP_SECONDS, silent_limit / 2)
        swept = time.monotonic()
        empty_after = dt.timedelta(minutes=self.chat.settings.empty_chat_minutes)
        expire_every = min(EXPIRE_SECONDS, empty_after.total_seconds() / 2)
        expired = time.monotonic()
        while True:
            await asyncio.sleep(DEGRADED_POLL_SECONDS)
            elapsed += DEGRADED_POLL_SECONDS
            if not self.chat.broker.healthy:
                await self.resync()
            elif elapsed >= QUEUE_TICK_SECONDS:
                elapsed = 0.0
                self.schedule_queue_refresh()
            self.expire_sessions()
            if time.monotonic() - swept >= sweep_every:
                swept = time.monotonic()
                await self.sweep(swept - silent_limit)
            if time.monotonic() - expired >= expire_every:
                expired = time.monotonic()
                await self._expire_empty(empty_after)

    async def _expire_empty(self, after: dt.timedelta) -> None:
        """Chats in which the child never wrote leave the queue after HELPLINE_EMPTY_CHAT_MINUTES.
        Every process runs this; the guarded UPDATE lets only one of them end each chat."""
        try:
            gone = await self.chat.abandon_empty(after, EXPIRED)
        except ProtocolError:
            return  # storage unavailable: the next pass tries again
        if gone:
            log.info("%d waiting chats with no message left the queue", len(gone))

    def expire_sessions(self) -> None:
        """Each console socket knows when its session times out (idle or absolute) unless used;
        once that moment passes, the database decides (it may have been used over HTTP), and a
        session that did time out closes the socket. A comparison per socket each second; a read
        only when a deadline passes."""
        now = time.monotonic()
        for console in list(self._staff):
            if console.session_deadline <= now and not console.closed:
                console.session_deadline = float("inf")  # one check at a time; recheck sets the next
                self._spawn(console.timed_recheck())

    async def sweep(self, heard_before: float) -> None:
        """Closes every socket that has sent nothing since ``heard_before`` (monotonic clock).

        The pages ping every 25 s, so only a peer that is gone (a phone that lost its network, a
        closed laptop) stays silent; without this its socket would stay open, and its child
        shown as online, until TCP gave up. One pass every few seconds replaces a protocol ping
        timer per socket (docs/adr/0017-liveness.md)."""
        for index, conn in enumerate(list(self._open), start=1):
            if conn.last_heard < heard_before and not conn.closed:
                self._spawn(conn.close_silent())
            if index % (YIELD_EVERY * 16) == 0:
                await asyncio.sleep(0)
