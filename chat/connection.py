"""The base of a client's WebSocket connection, what child and staff sockets share: the frame and
error buckets, acks, in-order delivery with gaps filled from the database, and the close codes
every socket may be closed with. The two kinds are chat/child_connection.py and
chat/staff_connection.py; chat/web.py routes a socket to one of them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from chat import voice
from chat.protocol import Check, Frame, ProtocolError, parse_frame
from chat.repository import StoredMessage
from helpline import metrics, timing

if TYPE_CHECKING:
    from helpline.app import Services

log = logging.getLogger("helpline.chat")

ABUSE_CLOSE = 1008
SILENT_CLOSE = 1001  # "going away": the peer sent nothing for HELPLINE_SILENT_SECONDS
SOCKET_GONE = (RuntimeError, OSError, WebSocketDisconnect)  # what a write to a closed socket raises


class RateLimit:
    """A token bucket: ``per_minute`` frames, refilled continuously."""

    __slots__ = ("capacity", "tokens", "stamp")

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 if allowed, else seconds to wait."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.capacity / 60)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * 60 / self.capacity


class ClientConnection:
    """What child and staff sockets share: limits, acks, in-order delivery."""

    is_child = False
    schema: dict[str, dict[str, Check]] = {}

    def __init__(self, websocket: WebSocket, services: Services) -> None:
        self.ws = websocket
        self.services = services
        self.chat = services.chat
        self.hub = services.hub
        self.participant = ""
        self.delivered: dict[str, int] = {}
        self._lock = asyncio.Lock()
        settings = services.settings
        self._frames = RateLimit(settings.frames_per_minute)
        self._errors = RateLimit(settings.max_errors_per_minute)
        self.closed = False
        self.last_heard = time.monotonic()  # the last frame from the client (Hub.sweep)
        self.shown_position: tuple[int, int] | None = None  # the child's last queue position frame
        self.queue_seen = -1  # a console: the Hub.queue_version of the last queue head it was sent
        self.queue_total = -1  # and the last total
        # A handler may stream more frames after its ack (resume: ack, then the history).
        self._after_ack: Callable[[], Awaitable[Any]] | None = None

    # -- output ----------------------------------------------------------------------------

    async def push(self, frame: dict[str, Any]) -> None:
        await self.push_text(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))

    async def push_text(self, text: str) -> None:
        """Sends a frame already serialised, as the hub does once for a frame many sockets get."""
        if self.closed or self.ws.application_state != WebSocketState.CONNECTED:
            return
        try:
            await self.ws.send_text(text)
        except SOCKET_GONE:
            self.closed = True

    def wants(self, to: str, frame: dict[str, Any]) -> bool:
        return to == "all" or to == self.participant

    def wants_staff(self, to: str) -> bool:
        return False

    async def on_event(self, frame: dict[str, Any]) -> None:
        await self.push(frame)

    async def on_staff_event(self, frame: dict[str, Any]) -> None:
        await self.push(frame)

    async def deliver(self, message: StoredMessage) -> bool:
        """Delivers a notified message in order, filling any gap from the database; True if this
        socket was sent exactly this message (for helpline.timing)."""
        async with self._lock:
            last = self.delivered.get(message.conv)
            if last is None or message.seq <= last:
                return False
            if message.seq == last + 1:
                self.delivered[message.conv] = message.seq
                if message.sender != self.participant:
                    await self.push(message.frame())
                    return True
                return False
        await self.catch_up(message.conv)
        return False

    async def catch_up(self, conv_id: str, after: int | None = None) -> int:
        """Sends every stored message after ``after`` (default: what was delivered)."""
        async with self._lock:
            start = self.delivered.get(conv_id, 0) if after is None else after
            while True:
                batch = await self.chat.messages_after(conv_id, start)
                for message in batch:
                    await self.push(message.frame())
                if batch:
                    start = batch[-1].seq
                if len(batch) < 500:
                    break
            self.delivered[conv_id] = max(self.delivered.get(conv_id, 0), start)
            return start

    async def bind(self, conv_id: str, after: int) -> int:
        """Starts listening to a conversation and replays what the client has not seen."""
        last = await self.chat.last_seq(conv_id)
        if after > last:
            raise ProtocolError("bad_sequence", f"'after' is {after} but the last message is {last}.")
        self.delivered.setdefault(conv_id, after)
        await self.hub.watch(conv_id, self)
        return await self.catch_up(conv_id, after)

    # -- input -----------------------------------------------------------------------------

    async def on_open(self) -> None:  # noqa: B027 - optional hook
        """Runs once the socket is accepted, before the first frame is read."""

    async def run(self) -> None:
        await self.ws.accept()
        self.hub.opened(self)
        try:
            await self.on_open()
            # The server's own receive, not Starlette's `WebSocket.receive` around it: each frame
            # starts a new wait that lives until the next one, and at full scale the young garbage
            # collections walked these waits; one coroutine less in each (docs/adr/0036).
            receive = self.ws._receive
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    self.ws.client_state = WebSocketState.DISCONNECTED
                    break
                self.last_heard = time.monotonic()
                await self.handle_text(message.get("text"))
                if self.closed:
                    break
        except WebSocketDisconnect:
            pass
        finally:
            self.closed = True
            self.hub.closed(self)
            await self.on_close()

    async def close_silent(self) -> None:
        """Closes a socket whose peer has gone quiet (Hub.sweep); the page reconnects and resumes."""
        self.closed = True
        try:
            await self.ws.close(SILENT_CLOSE)
        except SOCKET_GONE:
            pass

    async def handle_text(self, text: str | None) -> None:
        timing.frame_received()
        frame: Frame | None = None
        try:
            frame = parse_frame(text, self.schema, self.services.settings.max_frame_bytes)
            wait = self._frames.take()
            if wait:
                raise ProtocolError("rate_limited", f"Too many frames; wait {wait:.0f} s.", frame.id)
            self._after_ack = None
            reply = await self.dispatch(frame)
            await self.push({"type": "ack", "id": frame.id, **reply})
            if self._after_ack is not None:
                await self._after_ack()
        except ProtocolError as exc:
            if exc.frame_id is None and frame is not None:
                exc.frame_id = frame.id
            body = exc.frame()
            metrics.error_answered(exc.code)
            if exc.code == "rate_limited" and "retry_after" not in body:
                body["retry_after"] = getattr(exc, "retry_after", 0) or max(1, int(self._frames.take() or 1))
            await self.push(body)
            if self._errors.take() and not self.closed:
                await self.ws.close(ABUSE_CLOSE)
                self.closed = True
        except Exception:
            log.exception("frame handling failed")
            metrics.error_answered("internal")
            await self.push({"type": "error", "id": frame.id if frame else None, "code": "internal",
                             "message": "Something went wrong on the server; nothing was changed."})

    async def dispatch(self, frame: Frame) -> dict[str, Any]:
        handler = getattr(self, "on_" + frame.type)
        result: dict[str, Any] = await handler(frame)
        return result

    async def on_ping(self, frame: Frame) -> dict[str, Any]:
        return {}

    async def on_sync(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        return {"conv": frame["conv"], "last_seq": await self.bind(frame["conv"], frame["after"])}

    async def on_typing(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        await self.chat.broker.publish(f"conv:{frame['conv']}", {"k": "event", "to": "others:" + self.participant,
                                       "frame": {"type": "typing", "conv": frame["conv"], "from": self.participant}})
        return {}

    # Voice calls (chat/voice.py): TURN credentials per call, sealed signalling relayed, never stored.
    async def on_turn(self, frame: Frame) -> dict[str, Any]:
        return await voice.ticket(self, frame)

    async def on_signal(self, frame: Frame) -> dict[str, Any]:
        return await voice.relay(self, frame)

    async def on_send(self, frame: Frame) -> dict[str, Any]:
        conv_id, started = frame["conv"], time.monotonic()
        stored, _new = await self.chat.send(conv_id, self.participant, frame.id, frame["body"],
                                            **await self.sender(conv_id))
        async with self._lock:
            if self.delivered.get(conv_id) == stored.seq - 1:
                self.delivered[conv_id] = stored.seq
        metrics.store_time.observe(time.monotonic() - started)
        return {"conv": conv_id, "seq": stored.seq}

    async def check_member(self, conv_id: str) -> None:
        """Refuses a conversation this client is not part of (each side defines membership)."""
        raise ProtocolError("forbidden", "This conversation is not yours.")

    async def sender(self, conv_id: str) -> dict[str, Any]:
        """Who is writing, for the guarded insert in ChatService.send (which checks membership)."""
        raise ProtocolError("forbidden", "This conversation is not yours.")

    async def on_close(self) -> None:
        for conv_id in list(self.delivered):
            await self.hub.unwatch(conv_id, self)
