"""Wire protocol: parse and validate client frames (docs/protocol.md).

Everything a client sends passes through :func:`parse_frame`; a frame that does not fit gets a
:class:`ProtocolError` with a code and a sentence, and nothing else happens. Text fields are checked
by the core's input validation (helpline.validate), the same checks as the JSON bodies, so a frame's
string holds no control character or lone surrogate either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpline import pack, taxonomy, validate
from helpline.crypto import CryptoError, b64u_decode


class ProtocolError(Exception):
    """A frame the server refuses; ``code`` is one of docs/protocol.md's error codes."""

    def __init__(self, code: str, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id
        self.extra: dict[str, Any] = {}  # more fields for the error frame (a challenge, retry_after)

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "id": self.frame_id, "code": self.code, "message": self.message, **self.extra}


class NotYours(ProtocolError):
    """A staff frame on a conversation this staff member neither holds nor was granted; the staff
    socket audits it, as a refused HTTP call on an object is (chat/staff_connection.py)."""

    def __init__(self) -> None:
        super().__init__("forbidden", "This conversation is not yours.")


class Blocked(ProtocolError):
    """The child's identity or device is blocked: no chat for it (chat/abuse.py, ChatService.start)."""

    def __init__(self) -> None:
        super().__init__("blocked", f"This chat is closed. You can call {pack.numbers()['helpline']}.")


Check = validate.Check


def _string(max_len: int, min_len: int = 1) -> Check:
    """A one-line string of ``min_len`` to ``max_len`` characters, through helpline.validate (which
    refuses control characters and lone surrogates)."""
    return validate.string(max_len, min_len)


def _key32(name: str, value: Any) -> str:
    try:
        if isinstance(value, str) and len(value) == 43 and len(b64u_decode(value)) == 32:
            return value
    except CryptoError:
        pass
    raise ValueError(f"'{name}' must be 32 bytes in base64url")


def _wrapped(name: str, value: Any) -> str:
    # nonce 24 + key 32 + MAC 16 = 72 bytes = 96 base64url characters
    try:
        if isinstance(value, str) and len(value) == 96 and len(b64u_decode(value)) == 72:
            return value
    except CryptoError:
        pass
    raise ProtocolError("bad_ciphertext", f"'{name}' must be a wrapped key: 72 bytes in base64url")


def _seq(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ValueError(f"'{name}' must be a whole number from 0")
    return value


_choice = validate.choice


def _topics() -> tuple[str, ...]:
    return pack.active().topics


def _age_bands() -> tuple[str, ...]:
    return taxonomy.load().codes("age_bands")  # the page offers the pack's; "adult" is recorded too


# Each question's answers: fixed, from the helpline pack (a function), or free text (None).
PRECHAT_FIELDS: dict[str, tuple[str, ...] | Callable[[], tuple[str, ...]] | None] = {
    "who": ("child", "adult"),
    "age_band": _age_bands,
    "gender": ("girl", "boy", "other", "unsaid"),
    "topic": _topics,
    "municipality": None,
}


def _prechat(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"'{name}' must be an object")
    clean: dict[str, Any] = {}
    for key, raw in value.items():
        if raw is None or raw == "":
            continue
        if key == "danger":
            if not isinstance(raw, bool):
                raise ValueError("'prechat.danger' must be true or false")
            clean[key] = raw
        elif key in PRECHAT_FIELDS:
            options = PRECHAT_FIELDS[key]
            if options is None:
                clean[key] = _string(64)(f"prechat.{key}", raw)
            else:
                clean[key] = _choice(*(options() if callable(options) else options))(f"prechat.{key}", raw)
        else:
            raise ValueError(f"'prechat.{key}' is not a pre-chat question")
    return clean


def _proof(name: str, value: Any) -> dict[str, str]:
    if (not isinstance(value, dict) or set(value) != {"seed", "nonce"}
            or not all(isinstance(v, str) and 1 <= len(v) <= 64 for v in value.values())):
        raise ValueError(f"'{name}' must be an object with the strings 'seed' and 'nonce'")
    return {"seed": value["seed"], "nonce": value["nonce"]}


def _call_id(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 32 or value.strip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                              "abcdefghijklmnopqrstuvwxyz0123456789_-"):
        raise ValueError(f"'{name}' must be 8 to 32 base64url characters")
    return value


def _body(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ProtocolError("bad_ciphertext", f"'{name}' must be a base64url string")
    return value


def _team_keys(name: str, value: Any) -> list[dict[str, str]]:
    """A left message's key, wrapped for each reader: a list of {"for": participant, "key": wrapped}."""
    if not isinstance(value, list) or not 1 <= len(value) <= 200:
        raise ValueError(f"'{name}' must be a list of 1 to 200 wrapped keys")
    keys = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"for", "key"}:
            raise ValueError(f"each item of '{name}' must be an object with 'for' and 'key'")
        keys.append({"for": _string(48)(f"{name}.for", item["for"]), "key": _wrapped(f"{name}.key", item["key"])})
    return keys


_CONV = _string(32)
_COMMON: dict[str, Check] = {}

CHILD_FRAMES: dict[str, dict[str, Check]] = {
    "start": {"token": _key32, "public_key": _key32, "self_key": _wrapped, "prechat": _prechat,
              "device": _key32, "pow": _proof, "message": validate.boolean},
    "resume": {"token": _key32, "after": _seq, "device": _key32},
    "send": {"conv": _CONV, "body": _body},
    "wrap": {"conv": _CONV, "for": _string(48), "key": _wrapped},
    "sync": {"conv": _CONV, "after": _seq},
    "typing": {"conv": _CONV},
    "leave": {"conv": _CONV},
    "feedback": {"conv": _CONV, "helped": _choice("yes", "somewhat", "no")},
    "earlier": {"conv": _CONV},
    "share": {"conv": _CONV, "earlier": _CONV, "for": _string(48), "key": _wrapped},
    "ping": {},
    "prechat": {"conv": _CONV, "prechat": _prechat},  # answers given while waiting (chat/late_answers.py)

    # While waiting (ADR 0027): the team's keys, a message left for them, "I am in danger now".
    "readers": {"conv": _CONV},
    "leave_message": {"conv": _CONV, "keys": _team_keys},
    "danger": {"conv": _CONV},
}
# Voice calls (chat/voice.py, ADR 0033): both sides ask for TURN credentials and relay sealed signalling.
VOICE_FRAMES: dict[str, dict[str, Check]] = {
    "turn": {"conv": _CONV, "call": _call_id},
    "signal": {"conv": _CONV, "body": _body},
}
CHILD_FRAMES.update(VOICE_FRAMES)

_PARTICIPANT = _string(48)

STAFF_FRAMES: dict[str, dict[str, Check]] = {
    "accept": {"conv": _CONV},
    "send": {"conv": _CONV, "body": _body},
    "sync": {"conv": _CONV, "after": _seq},
    "typing": {"conv": _CONV},
    "end": {"conv": _CONV},
    "transfer": {"conv": _CONV, "to": _PARTICIPANT, "key": _wrapped, "note": _body},
    "ask_supervisor": {"conv": _CONV, "kind": _choice("help", "emergency")},
    "join": {"alert": _seq},
    "grant": {"conv": _CONV, "to": _PARTICIPANT, "key": _wrapped},
    "assign": {"conv": _CONV, "to": _PARTICIPANT},
    "block": {"conv": _CONV, "reason": _choice("abusive", "threats", "prank", "sexual", "other")},
    "status": {"status": _choice("available", "busy", "break")},
    "ping": {},
    "take_over": {"conv": _CONV, "to": _choice("me", "queue")},  # a gone counsellor's chat (ADR 0027)
    **VOICE_FRAMES,
    # A call's length, reported by the counsellor's console when it ends (chat/voice.py).
    "voice_record": {"conv": _CONV, "call": _call_id, "seconds": _seq},
}

# Fields a frame may leave out, and the value they then take.
OPTIONAL: dict[tuple[str, str], Any] = {("start", "prechat"): {}, ("transfer", "key"): None,
                                        ("transfer", "note"): None, ("start", "device"): None,
                                        ("start", "pow"): None, ("resume", "device"): None,
                                        ("start", "message"): False}


@dataclass(frozen=True)
class Frame:
    type: str
    id: str
    fields: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


def parse_frame(text: str | bytes | None, schema: dict[str, dict[str, Check]], max_bytes: int) -> Frame:
    """Decodes one client frame or raises ProtocolError naming what is wrong."""
    if text is None:
        raise ProtocolError("bad_json", "Frames must be JSON text, not binary.")
    if len(text) > max_bytes:
        raise ProtocolError("too_large", f"A frame may be at most {max_bytes} bytes.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "A frame must be a JSON object.")
    frame_id = data.get("id")
    if not isinstance(frame_id, str) or not 1 <= len(frame_id) <= 64:
        raise ProtocolError("bad_frame", "'id' must be a string of 1 to 64 characters.")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in schema:
        raise ProtocolError("unknown_type", f"Unknown frame type: {str(kind)[:32]!r}.", frame_id)
    fields: dict[str, Any] = {}
    for name, check in schema[kind].items():
        if name not in data:
            if (kind, name) in OPTIONAL:
                default = OPTIONAL[(kind, name)]
                fields[name] = dict(default) if isinstance(default, dict) else default
                continue
            raise ProtocolError("bad_frame", f"'{name}' is missing.", frame_id)
        try:
            fields[name] = check(name, data[name])
        except ProtocolError as exc:
            exc.frame_id = frame_id
            raise
        except ValueError as exc:
            raise ProtocolError("bad_frame", str(exc).rstrip(".") + ".", frame_id) from None
    return Frame(kind, frame_id, fields)
