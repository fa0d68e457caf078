"""A child's WebSocket connection: `start` or `resume` binds it to one conversation, whose
frames it then sends; a block on the chat blocks the browser's device too (chat/abuse.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from chat import abuse, late_answers, resume_guard, waiting
from chat.connection import ClientConnection
from chat.model import CHILD
from chat.protocol import CHILD_FRAMES, Frame, ProtocolError
from helpline.crypto import b64u_decode, token_hash
from helpline.db import StoreUnavailable
from helpline.models import ConversationState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from helpline.app import Services

log = logging.getLogger("helpline.chat")


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
                                         refuse=refuse, guard=guard, to_leave_message=frame["message"])
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

    async def on_prechat(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        await late_answers.answer_while_waiting(self.services.store, self.chat.broker, frame["conv"], self.child_id,
                                                frame["prechat"])
        self.hub.schedule_queue_refresh()
        return {}

    # -- while waiting (chat/waiting.py, ADR 0027) ----------------------------------------------

    async def on_readers(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        return {"readers": await waiting.team_readers(self.chat)}

    async def on_leave_message(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        return {"state": await waiting.leave_message(self.chat, frame["conv"], self.child_id, frame["keys"])}

    async def on_danger(self, frame: Frame) -> dict[str, Any]:
        await self.check_member(frame["conv"])
        assert self.child_id is not None
        return await waiting.in_danger(self.chat, self.services.teamwork, frame["conv"], self.child_id)

    async def on_close(self) -> None:
        await self._presence("offline")
        await super().on_close()
