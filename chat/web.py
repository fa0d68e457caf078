"""WebSocket endpoints: one connection object per socket, frames in, acks and events out."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from chat import abuse, resume_guard
from chat.model import CHILD, prechat_of
from chat.protocol import CHILD_FRAMES, STAFF_FRAMES, Check, Frame, NotYours, ProtocolError, parse_frame
from chat.repository import StoredMessage
from chat.service import UNAVAILABLE
from helpline import timing
from helpline.crypto import b64u_decode, token_hash
from helpline.db import StoreUnavailable
from helpline.models import ConversationState, Staff, StaffSession, utcnow
from helpline.security import audit, permissions, sessions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from helpline.app import Services

log = logging.getLogger("helpline.chat")

ABUSE_CLOSE = 1008
SILENT_CLOSE = 1001  # "going away": the peer sent nothing for HELPLINE_SILENT_SECONDS
# A console socket whose session no longer allows work (signed out, timed out, disabled, reset,
# password changed elsewhere): the console says "sign in again" (docs/protocol.md, Close codes).
SESSION_ENDED_CLOSE = 4401
ROLE_CHANGED_CLOSE = 4403  # the account's role changed, or it may not use the console
# Frames that change nothing re-use the check made at connect and by the broker's notices; every
# other staff frame reads the session and staff row again first (docs/adr/0018).
UNCHECKED_STAFF_FRAMES = frozenset({"ping", "typing", "sync"})
RECHECK_RETRY_SECONDS = 5.0  # the database did not answer a timed check: try again this much later
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
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
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
            if exc.code == "rate_limited" and "retry_after" not in body:
                body["retry_after"] = getattr(exc, "retry_after", 0) or max(1, int(self._frames.take() or 1))
            await self.push(body)
            if self._errors.take() and not self.closed:
                await self.ws.close(ABUSE_CLOSE)
                self.closed = True
        except Exception:
            log.exception("frame handling failed")
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

    async def on_send(self, frame: Frame) -> dict[str, Any]:
        conv_id = frame["conv"]
        stored, _new = await self.chat.send(conv_id, self.participant, frame.id, frame["body"],
                                            **await self.sender(conv_id))
        async with self._lock:
            if self.delivered.get(conv_id) == stored.seq - 1:
                self.delivered[conv_id] = stored.seq
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


class ChildConnection(ClientConnection):
    """A child's socket: bound to one conversation after `start` or `resume`."""

    is_child = True
    schema = CHILD_FRAMES

    def __init__(self, websocket: WebSocket, services: Services) -> None:
        super().__init__(websocket, services)
        self.participant = CHILD
        self.child_id: int | None = None
        self.conv_id: str | None = None
        self.device: bytes | None = None  # the browser's device token, in memory only (chat/abuse.py)

    def wants(self, to: str, frame: dict[str, Any]) -> bool:
        return to in ("all", CHILD) or (to.startswith("others:") and to != "others:" + CHILD)

    async def check_member(self, conv_id: str) -> None:
        if self.conv_id is None or conv_id != self.conv_id:
            raise ProtocolError("not_found", "Start or resume a conversation first.")

    async def sender(self, conv_id: str) -> dict[str, Any]:
        await self.check_member(conv_id)
        return {"child_id": self.child_id}

    async def _attach(self, conv_id: str, child_id: int) -> None:
        if self.conv_id and self.conv_id != conv_id:
            await self.hub.unwatch(self.conv_id, self)
            self.delivered.pop(self.conv_id, None)
        self.conv_id, self.child_id = conv_id, child_id
        await self._presence("online")

    async def _presence(self, state: str) -> None:
        if self.conv_id:
            await self.chat.broker.publish(f"conv:{self.conv_id}", {"k": "event", "to": "others:" + CHILD,
                                           "frame": {"type": "presence", "conv": self.conv_id, "child": state}})

    async def on_event(self, frame: dict[str, Any]) -> None:
        # A counsellor blocked the chat open on this device: the device is blocked too.
        if frame.get("type") == "ended" and frame.get("blocked") and frame.get("conv") == self.conv_id:
            await self._block_device()
        await self.push(frame)

    async def _block_device(self) -> None:
        if self.device is None:
            return
        try:
            async with self.services.store.write() as db:
                await abuse.block_device(db, self.services.server_secret, self.device)
        except StoreUnavailable:
            log.warning("a device block was not stored: storage unavailable")

    async def on_start(self, frame: Frame) -> dict[str, Any]:
        token = b64u_decode(frame["token"])
        self.device = b64u_decode(frame["device"]) if frame["device"] else None
        secret, settings, device = self.services.server_secret, self.services.settings, self.device

        def refuse(db: Session) -> None:
            abuse.refuse_blocked_device(db, secret, device)

        def guard(db: Session) -> None:
            abuse.guard_new_chat(db, settings, secret, token, device, frame["pow"])

        try:
            conv = await self.chat.start(token, frame["public_key"], frame["self_key"], frame["prechat"],
                                         refuse=refuse, guard=guard)
        except ProtocolError as exc:
            if exc.code == "blocked":  # a blocked identity on this device: the device too
                await self._block_device()
            raise
        await self._attach(conv.id, conv.child_id)
        self.delivered.setdefault(conv.id, 0)
        await self.hub.watch(conv.id, self)
        if conv.state == ConversationState.QUEUED:
            self.hub.schedule_queue_refresh()
        return {"conv": conv.id, "state": conv.state}

    async def on_resume(self, frame: Frame) -> dict[str, Any]:
        token = b64u_decode(frame["token"])
        self.device = b64u_decode(frame["device"]) if frame["device"] else None
        guard = resume_guard.key_for(self.services.server_secret, token_hash(token))
        await resume_guard.check(self.services.store, guard)
        try:
            conv, self_key, card = await self.chat.resume(token)
        except ProtocolError as exc:
            if exc.code == "not_found":
                await resume_guard.failed(self.services.store, guard)
            raise
        if frame["after"] > conv.last_seq:
            raise ProtocolError("bad_sequence", f"'after' is {frame['after']} but the last message is {conv.last_seq}.")
        await self._attach(conv.id, conv.child_id)
        after = frame["after"]
        if self.device is not None and await self.chat.is_blocked(token):
            await self._block_device()

        async def replay() -> None:
            await self.bind(conv.id, after)
            if conv.state == ConversationState.QUEUED:
                self.hub.schedule_queue_refresh()

        # The ack goes first so the page can open its key before the history arrives.
        self._after_ack = replay
        return {"conv": conv.id, "state": conv.state, "self_key": self_key,
                "counsellor": card.as_dict() if card else None, "last_seq": conv.last_seq}

    async def on_wrap(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        await self.chat.wrap_for(frame["conv"], self.child_id, frame["for"], frame["key"])
        return {}

    async def on_leave(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        return {"state": await self.chat.leave(frame["conv"], self.child_id)}

    async def on_earlier(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        return {"items": await self.chat.earlier(frame["conv"], self.child_id)}

    async def on_share(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        await self.chat.share_earlier(frame["conv"], self.child_id, frame["earlier"], frame["for"], frame["key"])
        return {}

    async def on_feedback(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        await self.chat.feedback(frame["conv"], self.child_id, frame["helped"])
        return {}

    async def on_close(self) -> None:
        await self._presence("offline")
        await super().on_close()


class StaffConnection(ClientConnection):
    """A counsellor's or supervisor's socket, authenticated by the console session."""

    schema = STAFF_FRAMES

    def __init__(self, websocket: WebSocket, services: Services, staff: Staff, session: StaffSession) -> None:
        super().__init__(websocket, services)
        self.staff = staff
        self.participant = staff.participant_id
        self.team = services.teamwork
        self.session_id = session.id
        self.session_deadline = 0.0  # monotonic time the session times out unless used (Hub._tick)
        self._deadline_from(session)

    # -- revocation: the session and the staff row, checked again (docs/adr/0018) ----------------

    def _deadline_from(self, session: StaffSession) -> None:
        settings = self.services.settings
        ends = sessions.expires_at(session, idle_minutes=settings.session_idle_minutes,
                                   max_hours=settings.session_max_hours)
        self.session_deadline = time.monotonic() + (ends - utcnow()).total_seconds()

    async def recheck(self, *, used: bool = False) -> bool:
        """Reads the session and the staff row again (one read by primary key) and closes the
        socket when they no longer allow work; True when the socket may go on. ``used``: a
        state-changing frame, which counts as activity for the idle timeout."""
        if self.closed:
            return False
        settings = self.services.settings
        async with self.services.store.read() as db:
            found = await sessions.current(db, self.session_id, idle_minutes=settings.session_idle_minutes,
                                           max_hours=settings.session_max_hours)
        if found is None:
            await self.close_revoked(SESSION_ENDED_CLOSE)
            return False
        staff, session = found
        if staff.role != self.staff.role or not permissions.allowed(staff.role, "console.use"):
            await self.close_revoked(ROLE_CHANGED_CLOSE)
            return False
        self.staff = staff
        if used and utcnow() - session.last_seen_at > sessions.touch_every(settings.session_idle_minutes):
            async with self.services.store.write() as db:
                await sessions.touch(db, self.session_id)
            session.last_seen_at = utcnow()
        self._deadline_from(session)
        return True

    async def timed_recheck(self) -> None:
        """The hub's tick found the session's deadline passed: it may have been used over HTTP
        meanwhile, so the database decides."""
        try:
            await self.recheck()
        except StoreUnavailable:
            self.session_deadline = time.monotonic() + RECHECK_RETRY_SECONDS

    async def close_revoked(self, code: int) -> None:
        """Closes the socket with a code the console turns into "sign in again"."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.ws.close(code)
        except SOCKET_GONE:
            pass

    def wants(self, to: str, frame: dict[str, Any]) -> bool:
        return to in ("all", self.participant) or (to.startswith("others:") and to != "others:" + self.participant)

    def wants_staff(self, to: str) -> bool:
        return to in (self.participant, "all", "role:" + self.staff.role)

    async def _allow(self, action: str) -> None:
        """The permission matrix, as for HTTP routes; a refusal is audited like a 403."""
        if not permissions.allowed(self.staff.role, action):
            await self._audit_refusal(action, "role")
            raise ProtocolError("forbidden", "Your role may not do this.")

    async def _audit_refusal(self, action: str, reason: str) -> None:
        try:
            await audit.refused(self.services.store, self.staff, action, reason=reason)
        except StoreUnavailable:
            log.warning("a refused frame was not audited: storage unavailable")

    async def dispatch(self, frame: Frame) -> dict[str, Any]:
        if frame.type not in UNCHECKED_STAFF_FRAMES:
            try:
                allowed = await self.recheck(used=True)
            except StoreUnavailable:
                raise ProtocolError("unavailable", UNAVAILABLE) from None
            if not allowed:
                raise ProtocolError("signed_out", "Your session has ended; sign in again.")
        try:
            return await super().dispatch(frame)
        except NotYours:
            # A chat they do not hold: in the audit log, as a refused HTTP call on an object is.
            await self._audit_refusal("frame." + frame.type, "object")
            raise

    async def check_member(self, conv_id: str) -> None:
        async with self.services.sessionmaker() as db:
            await self.chat.staff_conversation(db, conv_id, self.staff)

    async def sender(self, conv_id: str) -> dict[str, Any]:
        return {"staff": self.staff}

    async def run(self) -> None:
        self.hub.add_staff(self)
        try:
            await super().run()
        finally:
            self.hub.remove_staff(self)

    async def on_open(self) -> None:
        held = await self.chat.held(self.staff)
        alerts = await self.team.open_alerts() if permissions.allowed(self.staff.role, "supervise.view") else []
        await self.push({"type": "hello", "staff": {"id": self.participant, "name": self.staff.display_name,
                                                    "role": self.staff.role, "status": self.staff.status},
                         "conversations": held, "alerts": alerts})
        for item in held:
            self.delivered.setdefault(item["conv"], item["last_seq"])
            await self.hub.watch(item["conv"], self)
        frame, _, _ = await self.chat.queue_snapshot(places=0)
        await self.push(frame)
        self.queue_seen = -1  # the hub may have sent a newer head meanwhile: its next refresh resends it

    async def _follow(self, conv_id: str, after: int = 0) -> None:
        self.delivered.setdefault(conv_id, after)
        await self.hub.watch(conv_id, self)

    async def _drop(self, conv_id: str) -> None:
        self.delivered.pop(conv_id, None)
        await self.hub.unwatch(conv_id, self)

    async def on_event(self, frame: dict[str, Any]) -> None:
        # A chat handed on is no longer ours: stop following it before saying so.
        if frame.get("type") == "transferred" and frame.get("from") == self.participant:
            await self._drop(frame["conv"])
        await self.push(frame)

    async def on_staff_event(self, frame: dict[str, Any]) -> None:
        # Chats that become ours (handover, grant, a supervisor's assignment) are followed from here.
        if frame.get("type") in ("handover", "granted", "assigned_to_you"):
            await self._follow(frame["conv"])
        await self.push(frame)

    async def on_accept(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.accept")
        # Listen before taking the chat: with several processes the child's key can come back
        # through Redis faster than a subscription made afterwards.
        conv_id = frame["conv"]
        await self._follow(conv_id)
        try:
            conv, child_public = await self.chat.accept(conv_id, self.staff)
        except ProtocolError:
            await self._drop(conv_id)
            raise
        return {"conv": conv.id, "child_public_key": child_public, "prechat": prechat_of(conv),
                "last_seq": conv.last_seq}

    async def on_sync(self, frame: Frame) -> dict[str, Any]:
        """As for the child, and the ack repeats the staff member's wrapped key, so a lost `key`
        notice is repaired by the next sync."""
        reply = await super().on_sync(frame)
        return {**reply, **await self.chat.key_for(frame["conv"], self.participant)}

    async def on_end(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.work")
        return {"state": await self.chat.end(frame["conv"], self.staff)}

    async def on_transfer(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.work")
        return await self.team.transfer(frame["conv"], self.staff, frame["to"], frame["key"], frame["note"])

    async def on_ask_supervisor(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.ask_supervisor")
        return await self.team.ask_supervisor(frame["conv"], self.staff, frame["kind"])

    async def on_join(self, frame: Frame) -> dict[str, Any]:
        await self._allow("supervise.act")
        return await self.team.request_join(frame["alert"], self.staff)

    async def on_grant(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.work")
        return await self.team.grant(frame["conv"], self.staff, frame["to"], frame["key"])

    async def on_assign(self, frame: Frame) -> dict[str, Any]:
        await self._allow("supervise.act")
        return await self.team.assign(frame["conv"], self.staff, frame["to"])

    async def on_block(self, frame: Frame) -> dict[str, Any]:
        await self._allow("chat.work")
        return await self.team.block(frame["conv"], self.staff, frame["reason"])

    async def on_status(self, frame: Frame) -> dict[str, Any]:
        return await self.team.set_status(self.staff, frame["status"])


async def child_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    await ChildConnection(websocket, services).run()


async def staff_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    found = await services.staff_for_websocket(websocket)
    if found is None or not permissions.allowed(found[0].role, "console.use"):
        # Accepted, then closed with the code: a close before accepting reaches the browser as an
        # HTTP 403, which the console cannot tell from a network failure (docs/protocol.md).
        await websocket.accept()
        await websocket.close(code=SESSION_ENDED_CLOSE if found is None else ROLE_CHANGED_CLOSE)
        return
    staff, session = found
    await StaffConnection(websocket, services, staff, session).run()


routes = [WebSocketRoute("/ws/child", child_socket), WebSocketRoute("/ws/staff", staff_socket)]
