"""A counsellor's or supervisor's WebSocket connection, authenticated by the console session:
the session and staff row checked again before each state-changing frame (docs/adr/0018), the
permission matrix per frame, and the teamwork frames (chat/teamwork.py)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from chat import duty, voice, waiting
from chat.connection import SOCKET_GONE, ClientConnection
from chat.model import prechat_of
from chat.protocol import STAFF_FRAMES, Frame, NotYours, ProtocolError
from chat.service import UNAVAILABLE
from helpline import metrics
from helpline.db import StoreUnavailable
from helpline.models import Staff, StaffSession, utcnow
from helpline.security import audit, permissions, sessions

if TYPE_CHECKING:
    from helpline.app import Services

log = logging.getLogger("helpline.chat")

# A console socket whose session no longer allows work (signed out, timed out, disabled, reset,
# password changed elsewhere): the console says "sign in again" (docs/protocol.md, Close codes).
SESSION_ENDED_CLOSE = 4401
ROLE_CHANGED_CLOSE = 4403  # the account's role changed, or it may not use the console
# Frames that change nothing re-use the check made at connect and by the broker's notices; every
# other staff frame reads the session and staff row again first (docs/adr/0018).
UNCHECKED_STAFF_FRAMES = frozenset({"ping", "typing", "sync", "signal"})
RECHECK_RETRY_SECONDS = 5.0  # the database did not answer a timed check: try again this much later


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
        self._seen_written = 0.0  # monotonic time this socket last wrote its presence (chat/duty.py)
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
        found = await self.services.session_checks.current(self.session_id)
        if found is None:
            await self.close_revoked(SESSION_ENDED_CLOSE)
            return False
        staff, session = found
        if staff.role != self.staff.role or not permissions.allowed(staff.role, "console.use"):
            await self.close_revoked(ROLE_CHANGED_CLOSE)
            return False
        self.staff = staff
        if used:
            await self.services.session_checks.touch(session)
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

    async def on_voice_record(self, frame: Frame) -> dict[str, Any]:
        return await voice.record(self, frame)

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
            await self._presence(here=False)

    # -- presence: who is on duty, whose console is gone (chat/duty.py, ADR 0027) ---------------

    async def _presence(self, *, here: bool, refresh: bool = False) -> None:
        """Writes that this console is here (or gone); the children's pages learn it with the queue.

        ``refresh``: an open console's ping. The row is the person's, not the socket's, so it is
        written once per SEEN_EVERY_SECONDS per person in this process, whichever of their
        sockets pings, and the queue is told only if the person may have been counted gone: a
        minute after sign-in every console socket's ping wrote the same rows and made every
        console's queue refresh, the stall in the 60-s benchmark runs (docs/adr/0036)."""
        self._seen_written = clock = time.monotonic()
        notes = self.hub.presence_written
        last = notes.get(self.staff.id)
        if refresh and last is not None and clock - last < duty.SEEN_EVERY_SECONDS:
            return  # another console of this person wrote it a moment ago
        if here:
            notes[self.staff.id] = clock
        else:
            notes.pop(self.staff.id, None)  # another open console of theirs writes "here" at its next ping
        try:
            async with self.services.store.write() as db:
                await (duty.seen(db, self.staff.id) if here else duty.left(db, self.staff.id))
        except Exception:  # noqa: BLE001 - storage down or closing (a shutdown): presence is best effort
            notes.pop(self.staff.id, None)
            log.warning("a console's presence was not stored")
            return  # the next ping tries again; a console is gone only after duty.STALE_SECONDS
        if refresh and last is not None and clock - last < duty.STALE_SECONDS:
            return  # on duty before and after: nothing changes for the queue
        await self.chat.broker.publish("queue", {"k": "queue"})

    async def on_ping(self, frame: Frame) -> dict[str, Any]:
        if time.monotonic() - self._seen_written >= duty.SEEN_EVERY_SECONDS:
            await self._presence(here=True, refresh=True)
        return await super().on_ping(frame)

    async def on_take_over(self, frame: Frame) -> dict[str, Any]:
        await self._allow("supervise.act")
        reply = await waiting.take_over(self.chat, self.team, frame["conv"], self.staff, frame["to"])
        if frame["to"] == "me":
            await self._follow(frame["conv"])
        return reply

    async def on_open(self) -> None:
        await self._presence(here=True)
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
        metrics.queue_wait.observe(max(0.0, (utcnow() - conv.created_at).total_seconds()))
        if conv.urgency >= waiting.IN_DANGER:
            await waiting.answered(self.chat, self.team, conv_id, self.staff)
        # A left message's key is already wrapped for the team (ADR 0027): it comes with the ack. A
        # left message has a message in it; a chat with none needs no read for a key it cannot have.
        mine = await self.chat.key_for(conv.id, self.participant) if conv.last_seq else {}
        return {"conv": conv.id, "child_public_key": child_public, "prechat": prechat_of(conv),
                "last_seq": conv.last_seq, **mine}

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
