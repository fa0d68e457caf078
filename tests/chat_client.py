"""A Python chat client with PyNaCl: plays the child or a counsellor over the real protocol.

Used by the tests and the benchmarks (which put the repository root on sys.path); it lives under
tests/, outside the shipped packages, since it needs httpx, a test dependency. It does what the
browser pages do: derives the child's keys from the resume secret, checks a counsellor's key
against the pinned org key before wrapping the conversation key for it, and decrypts every message
with the envelope check."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import nacl.public
import pyotp
from websockets.asyncio.client import ClientConnection, connect

from chat import abuse
from helpline import crypto


class SocketClosed(ConnectionError):
    """The server closed the socket while a frame was awaited; ``code`` is its close code."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"socket closed with code {code}")
        self.code = code


class FrameError(Exception):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code = frame.get("code")
        self.frame = frame


@dataclass
class Received:
    seq: int
    sender: str
    text: str
    cid: str


CLOSED = "_closed"  # the last item of Socket.events: the server closed the socket


@dataclass
class Socket:
    """One WebSocket with acks matched to frame ids and everything else queued as events."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    ws: ClientConnection | None = None
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    on_event: Any = None
    keep_events: bool = True  # False: events go only to on_event (the load driver's thousands of sockets)
    heard: list[str] | None = None  # a list: every frame the server sent, as text (what a page could read)
    # As the pages do: a `ping` frame every 25 s, and no WebSocket protocol pings (browsers send
    # none). The server closes a socket it has not heard from in HELPLINE_SILENT_SECONDS.
    keepalive: float = 25.0
    pinger: asyncio.Task[None] | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def open(self, **kwargs: Any) -> None:
        self.ws = await connect(self.url, additional_headers=self.headers, compression=None,
                                max_size=2**21, **{"ping_interval": None, **kwargs})
        self.reader = asyncio.create_task(self._read())
        if self.keepalive:
            self.pinger = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        # Sockets opened together must not ping together: the first one comes at a random point.
        await asyncio.sleep(self.keepalive * secrets.randbelow(1000) / 1000)
        while True:
            try:
                await self.request({"type": "ping"}, timeout=self.keepalive)
            except FrameError:
                pass  # rate-limited by a busy test: the next one will do
            except Exception:  # noqa: BLE001 - a dropped socket ends the pings
                return
            await asyncio.sleep(self.keepalive)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                if self.heard is not None:
                    self.heard.append(str(raw))
                frame = json.loads(raw)
                is_answer = frame.get("type") in ("ack", "error")
                waiter = self.pending.pop(frame.get("id") or "", None) if is_answer else None
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
                    continue
                if self.on_event is not None:
                    await self.on_event(frame)
                if self.keep_events:
                    await self.events.put(frame)
        except Exception:  # noqa: S110 - a dropped socket ends the reader  # nosec B110
            pass
        finally:
            for waiter in self.pending.values():
                if not waiter.done():
                    waiter.set_exception(SocketClosed(self.close_code))
            self.events.put_nowait({"type": CLOSED, "code": self.close_code})

    @property
    def close_code(self) -> int | None:
        """The code the server closed the socket with (None while open)."""
        return self.ws.close_code if self.ws is not None else None

    def new_id(self) -> str:
        return f"f{next(self._ids)}-{secrets.token_hex(3)}"

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Sends a frame and waits for its ack; raises FrameError on an error answer."""
        assert self.ws is not None
        frame.setdefault("id", self.new_id())
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[frame["id"]] = waiter
        await self.ws.send(json.dumps(frame))
        answer = await asyncio.wait_for(waiter, timeout)
        if answer["type"] == "error":
            raise FrameError(answer)
        return answer

    async def send_raw(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(text)

    async def next_event(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = await asyncio.wait_for(self.events.get(), max(0.01, deadline - time.monotonic()))
            if frame.get("type") == kind:
                return frame
            if frame.get("type") == CLOSED:
                self.events.put_nowait(frame)  # for whoever waits next
                raise SocketClosed(frame["code"])

    async def close(self) -> None:
        if self.pinger is not None:
            self.pinger.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


class ChildClient:
    """A child: anonymous, keys derived from a resume secret, checks counsellor keys."""

    def __init__(self, base_url: str, org_public_key: bytes, secret: bytes | None = None, *,
                 device: bytes | None = None, solve_pow: bool = True) -> None:
        self.ws_url = base_url.replace("http", "ws", 1) + "/ws/child"
        self.device = device  # the browser's device token (chat/abuse.py); None sends none
        self.solve_pow = solve_pow  # False plays a script that skips the proof of work
        self.pow_seconds = 0.0  # time spent solving, for the load driver
        self.pow_bits = 0  # the difficulty of the last puzzle solved (0: none was asked)
        self.org_public_key = org_public_key
        self.secret = secret or crypto.new_resume_secret()
        self.private_key = crypto.child_private_key(self.secret)
        self.public_key = bytes(self.private_key.public_key)
        self.token = crypto.child_token(self.secret)
        self.conv: str | None = None
        self.conv_key: bytes | None = None
        self.received: dict[int, Received] = {}
        self.refused: list[str] = []
        self.wrapped_for: list[str] = []
        self.shared: list[str] = []
        self.share_task: asyncio.Task[None] | None = None
        self.socket: Socket | None = None
        self.last_seq = 0
        self._early: list[dict[str, Any]] = []  # messages that arrived before the key was opened

    @property
    def resume_code(self) -> str:
        return crypto.format_resume_code(self.secret)

    async def connect(self, **kwargs: Any) -> None:
        self.socket = Socket(self.ws_url)
        self.socket.on_event = self._on_event
        await self.socket.open(**kwargs)

    async def start(self, prechat: dict[str, Any] | None = None) -> str:
        assert self.socket is not None
        self.conv_key = crypto.new_conversation_key()
        self_key = crypto.wrap_key(self.conv_key, self.public_key, self.private_key)
        frame: dict[str, Any] = {"type": "start", "token": crypto.b64u_encode(self.token),
                                 "public_key": crypto.b64u_encode(self.public_key),
                                 "self_key": self_key, "prechat": prechat or {}}
        if self.device is not None:
            frame["device"] = crypto.b64u_encode(self.device)
        ack: dict[str, Any] | None = None
        for _ in range(4):  # the price may rise while we solve: then the server sends a new puzzle
            try:
                ack = await self.socket.request(dict(frame))
                break
            except FrameError as exc:
                if exc.code != "pow_required" or not self.solve_pow:
                    raise
                challenge = exc.frame["challenge"]
                began = time.perf_counter()
                nonce = await asyncio.to_thread(abuse.solve, challenge["seed"], challenge["bits"])
                self.pow_seconds += time.perf_counter() - began
                self.pow_bits = int(challenge["bits"])
                frame["pow"] = {"seed": challenge["seed"], "nonce": nonce}
        if ack is None:
            ack = await self.socket.request(dict(frame))
        self.conv = ack["conv"]
        return self.conv

    async def resume(self) -> dict[str, Any]:
        """Reconnect path: the ack carries the self-wrapped key, then the missed messages follow."""
        assert self.socket is not None
        frame: dict[str, Any] = {"type": "resume", "token": crypto.b64u_encode(self.token), "after": self.last_seq}
        if self.device is not None:
            frame["device"] = crypto.b64u_encode(self.device)
        ack = await self.socket.request(frame)
        self.conv = ack["conv"]
        self.conv_key = crypto.unwrap_key(ack["self_key"], self.public_key, self.private_key)
        early, self._early = self._early, []
        for frame in early:
            await self._on_event(frame)
        counsellor = ack.get("counsellor")
        if counsellor and not counsellor["has_key"]:
            await self._wrap_for(counsellor)
        return ack

    async def say(self, text: str, frame_id: str | None = None) -> int:
        assert self.socket is not None and self.conv and self.conv_key
        frame_id = frame_id or self.socket.new_id()
        body = crypto.encrypt_message(self.conv_key, conv=self.conv, sender="child", cid=frame_id, text=text,
                                      at=int(time.time() * 1000))
        ack = await self.socket.request({"type": "send", "id": frame_id, "conv": self.conv, "body": body})
        seq: int = ack["seq"]
        return seq

    async def _on_event(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "assigned":
            await self._wrap_for(frame["counsellor"])
        elif frame["type"] == "msg" and self.conv_key is None:
            self._early.append(frame)
        elif frame["type"] == "msg" and self.conv_key is not None:
            payload = crypto.decrypt_message(self.conv_key, frame["body"], conv=frame["conv"],
                                             sender=frame["from"], cid=frame["cid"])
            self.received[frame["seq"]] = Received(frame["seq"], frame["from"], payload["text"], frame["cid"])
            self.last_seq = max(self.last_seq, frame["seq"])

    async def _wrap_for(self, counsellor: dict[str, Any]) -> None:
        """Wraps the conversation key only for a counsellor key the pinned org key signed."""
        assert self.socket is not None and self.conv_key is not None and self.conv is not None
        public = crypto.b64u_decode(counsellor["public_key"] or "")
        if not crypto.verify_staff_key(self.org_public_key, counsellor["id"], public, counsellor["signature"] or "",
                                       roles=crypto.CHAT_ROLES):
            self.refused.append(counsellor["id"])
            return
        wrapped = crypto.wrap_key(self.conv_key, public, self.private_key)
        # Not awaited as a request inside the reader: send and let the ack arrive later.
        asyncio.get_running_loop().create_task(self.socket.request(
            {"type": "wrap", "conv": self.conv, "for": counsellor["id"], "key": wrapped}))
        self.wrapped_for.append(counsellor["id"])
        self.share_task = asyncio.get_running_loop().create_task(self._share_earlier(counsellor["id"], public))

    async def _share_earlier(self, counsellor_id: str, public: bytes) -> None:
        """As the child's page does: earlier answered chats are opened here and wrapped for the new counsellor."""
        assert self.socket is not None and self.conv is not None
        listed = await self.socket.request({"type": "earlier", "conv": self.conv})
        for item in listed["items"]:
            key = crypto.unwrap_key(item["self_key"], self.public_key, self.private_key)
            await self.socket.request({"type": "share", "conv": self.conv, "earlier": item["conv"],
                                       "for": counsellor_id, "key": crypto.wrap_key(key, public, self.private_key)})
            self.shared.append(item["conv"])

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


# The second factor, as a staff member's phone app would give it. The server refuses a time step
# it has seen, so codes are taken per secret, each step once: a second sign-in inside the same
# 30 s step uses the next step's code (the server accepts one step of clock drift) or waits.
_TOTP_SECRETS: dict[tuple[str, str], str] = {}  # (username, password) -> secret, for later clients
_LAST_STEP: dict[str, int] = {}  # secret -> last step used


def remember_totp(username: str, password: str, secret: str) -> None:
    _TOTP_SECRETS[(username, password)] = secret


def totp_secret_for(username: str, password: str) -> str | None:
    return _TOTP_SECRETS.get((username, password))


async def next_totp_code(secret: str) -> str:
    """A code for a time step this process has not used yet. The server takes one step either side
    of its own (helpline/security/totp.py), so three sign-ins fit in 30 s before one has to wait:
    the step before (unless it ends within a few seconds), the current one and the next."""
    now = time.time()
    current = int(now // 30)
    earliest = current - 1 if (current + 1) * 30 - now > 5 else current
    step = max(earliest, _LAST_STEP.get(secret, -1) + 1)
    if step > current + 1:
        await asyncio.sleep((step - 1) * 30 - now + 0.05)
    _LAST_STEP[secret] = step
    return pyotp.TOTP(secret).at(step * 30)


@functools.lru_cache(maxsize=512)
def _derive_signin(password: str, salt: str) -> tuple[bytes, bytes]:
    return crypto.derive_signin(password, crypto.b64u_decode(salt))


def signin_from_salt(username: str, password: str, salt_answer: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """What the console page does with the answer of POST /console/api/login/salt (ADR 0021): the
    body of POST /console/api/login (the derived auth value; the password itself only for a legacy
    account's one last time) and the unwrap value that opens the private key and is never sent."""
    auth, unwrap = _derive_signin(password, str(salt_answer["salt"]))
    body = {"username": username, "auth": crypto.b64u_encode(auth)}
    if salt_answer.get("legacy"):
        body["password"] = password
    return body, unwrap


async def signin_secrets(http: httpx.AsyncClient, username: str, password: str) -> tuple[dict[str, str], bytes]:
    """Asks for the account's salt and derives: (login body, unwrap value)."""
    answer = await http.post("/console/api/login/salt", json={"username": username})
    answer.raise_for_status()
    return await asyncio.to_thread(signin_from_salt, username, password, answer.json())


async def signin_body(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """The body of POST /console/api/login for this username and password."""
    return (await signin_secrets(http, username, password))[0]


class StaffClient:
    """A counsellor: signs in over HTTP with password and TOTP (enrolling it at the first sign-in),
    enrols or unlocks their key, then chats over /ws/staff."""

    def __init__(self, base_url: str, username: str, password: str, totp_secret: str | None = None) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.totp_secret = totp_secret or totp_secret_for(username, password)
        self.recovery_codes: list[str] = []
        self.private_key: nacl.public.PrivateKey | None = None
        self.participant = ""
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.keys: dict[str, bytes] = {}
        self.received: dict[str, dict[int, Received]] = {}
        self.socket: Socket | None = None
        self.key_events: dict[str, asyncio.Event] = {}

    async def _second_factor(self, http: httpx.AsyncClient, step: str, csrf: str) -> dict[str, Any]:
        if step == "enrol":
            enrolled = await http.post("/console/api/mfa/enrol", headers={"x-csrf-token": csrf}, json={})
            enrolled.raise_for_status()
            self.totp_secret = str(enrolled.json()["secret"])
            remember_totp(self.username, self.password, self.totp_secret)
            answer = await http.post("/console/api/mfa/confirm", headers={"x-csrf-token": csrf},
                                     json={"code": await next_totp_code(self.totp_secret)})
        else:
            if self.totp_secret is None:
                raise RuntimeError(f"{self.username} has TOTP enrolled and this client has no secret for it")
            answer = await http.post("/console/api/mfa/verify", headers={"x-csrf-token": csrf},
                                     json={"code": await next_totp_code(self.totp_secret)})
        answer.raise_for_status()
        info: dict[str, Any] = answer.json()
        self.recovery_codes = info.get("recovery_codes", self.recovery_codes)
        return info

    async def sign_in(self) -> dict[str, Any]:
        """Password, then the second factor; returns the profile (with the sealed private key)."""
        origin = self.base_url
        async with httpx.AsyncClient(base_url=self.base_url, headers={"origin": origin}) as http:
            body, unwrap = await signin_secrets(http, self.username, self.password)
            answer = await http.post("/console/api/login", json=body)
            answer.raise_for_status()
            first: dict[str, Any] = answer.json()
            info = await self._second_factor(http, first["next"], first["csrf"])
            self.cookies = dict(http.cookies)
            self.csrf = info["csrf"]
            self.participant = info["staff"]["id"]
            if info["needs_key"]:
                self.private_key = nacl.public.PrivateKey.generate()
                sealed = crypto.seal(unwrap, bytes(self.private_key))
                enrolled = await http.post(
                    "/console/api/keys", headers={"x-csrf-token": self.csrf},
                    json={"public_key": crypto.b64u_encode(bytes(self.private_key.public_key)),
                          "encrypted_private_key": sealed})
                enrolled.raise_for_status()
            elif info["key_sealing"] == "legacy":
                # The first sign-in after the upgrade: open with the legacy wrapping key, seal again.
                wrapping = await asyncio.to_thread(crypto.derive_wrapping_key, self.password,
                                                   crypto.b64u_decode(info["kdf_salt"]))
                self.private_key = nacl.public.PrivateKey(crypto.open_sealed(wrapping, info["encrypted_private_key"]))
                resealed = await http.post("/console/api/keys/reseal", headers={"x-csrf-token": self.csrf},
                                           json={"encrypted_private_key": crypto.seal(unwrap, bytes(self.private_key))})
                resealed.raise_for_status()
            else:
                self.private_key = nacl.public.PrivateKey(crypto.open_sealed(unwrap, info["encrypted_private_key"]))
        return info

    async def connect(self, **kwargs: Any) -> dict[str, Any]:
        """Opens the staff socket; returns the `hello` frame."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        url = self.base_url.replace("http", "ws", 1) + "/ws/staff"
        self.socket = Socket(url, headers={"cookie": cookie, "origin": self.base_url})
        self.socket.on_event = self._on_event
        await self.socket.open(**kwargs)
        hello = await self.socket.next_event("hello")
        for item in hello["conversations"]:
            if item["key"]:
                self._take_key(item["conv"], item["key"], item["wrapper_public_key"])
        return hello

    async def accept(self, conv: str) -> dict[str, Any]:
        assert self.socket is not None
        self.key_events.setdefault(conv, asyncio.Event())
        return await self.socket.request({"type": "accept", "conv": conv})

    async def wait_for_key(self, conv: str, timeout: float = 10) -> None:
        await asyncio.wait_for(self.key_events.setdefault(conv, asyncio.Event()).wait(), timeout)

    async def sync(self, conv: str, after: int = 0) -> dict[str, Any]:
        assert self.socket is not None
        ack = await self.socket.request({"type": "sync", "conv": conv, "after": after})
        if ack.get("key") and conv not in self.keys:
            self._take_key(conv, ack["key"], ack["wrapper_public_key"])
        return ack

    async def say(self, conv: str, text: str, frame_id: str | None = None) -> int:
        assert self.socket is not None
        frame_id = frame_id or self.socket.new_id()
        body = crypto.encrypt_message(self.keys[conv], conv=conv, sender=self.participant, cid=frame_id, text=text,
                                      at=int(time.time() * 1000))
        ack = await self.socket.request({"type": "send", "id": frame_id, "conv": conv, "body": body})
        seq: int = ack["seq"]
        return seq

    async def end(self, conv: str) -> dict[str, Any]:
        assert self.socket is not None
        return await self.socket.request({"type": "end", "conv": conv})

    def _take_key(self, conv: str, wrapped: str, wrapper_public: str) -> None:
        assert self.private_key is not None
        self.keys[conv] = crypto.unwrap_key(wrapped, crypto.b64u_decode(wrapper_public), self.private_key)
        self.key_events.setdefault(conv, asyncio.Event()).set()

    # -- teamwork: the key is wrapped here, for a colleague whose key the org key signed ----------

    def wrap_for(self, conv: str, card: dict[str, Any], org_public: bytes) -> str:
        public = crypto.b64u_decode(card["public_key"])
        if not crypto.verify_staff_key(org_public, card["id"], public, card["signature"], roles=crypto.CHAT_ROLES):
            raise ValueError("the colleague's key is not signed by the org key")
        assert self.private_key is not None
        return crypto.wrap_key(self.keys[conv], public, self.private_key)

    async def transfer(self, conv: str, card: dict[str, Any] | None, org_public: bytes,
                       note: str | None = None) -> dict[str, Any]:
        assert self.socket is not None
        frame: dict[str, Any] = {"type": "transfer", "conv": conv, "to": card["id"] if card else "queue"}
        if card is not None:
            frame["key"] = self.wrap_for(conv, card, org_public)
        if note is not None:
            payload = {"v": 1, "conv": conv, "kind": "handover", "text": note}
            frame["note"] = crypto.seal(self.keys[conv], crypto.pad(json.dumps(payload).encode("utf-8")))
        return await self.socket.request(frame)

    async def grant(self, conv: str, card: dict[str, Any], org_public: bytes) -> dict[str, Any]:
        assert self.socket is not None
        return await self.socket.request({"type": "grant", "conv": conv, "to": card["id"],
                                          "key": self.wrap_for(conv, card, org_public)})

    async def command(self, frame: dict[str, Any]) -> dict[str, Any]:
        assert self.socket is not None
        return await self.socket.request(frame)

    async def _on_event(self, frame: dict[str, Any]) -> None:
        if frame["type"] in ("key", "handover", "granted") and frame.get("key"):
            self._take_key(frame["conv"], frame["key"], frame["wrapper_public_key"])
        elif frame["type"] == "msg" and frame["conv"] in self.keys:
            payload = crypto.decrypt_message(self.keys[frame["conv"]], frame["body"], conv=frame["conv"],
                                             sender=frame["from"], cid=frame["cid"])
            self.received.setdefault(frame["conv"], {})[frame["seq"]] = Received(
                frame["seq"], frame["from"], payload["text"], frame["cid"])

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
