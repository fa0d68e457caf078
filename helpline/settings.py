"""Settings: one declarative list drives validation, the README table and `helpline settings`.

Each value comes from the environment, then a ``.env`` file in the working directory, then the
default. A bad value stops the start with a message that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpline.opening import parse_range
from helpline.sentinel_url import is_sentinel_url, parse_sentinel_url


class SettingsError(ValueError):
    """A setting has a value the helpline cannot run with."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _pow_bits(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 28:
        raise ValueError("must be a whole number from 1 to 28")
    return value


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _database_url(text: str) -> str:
    if not text.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    if parse_qs(urlsplit(text).query).get("pooler", ["transaction"]) != ["transaction"]:
        raise ValueError("pooler= takes one value, transaction (PgBouncer in transaction pooling mode)")
    return text


def _redis_url(text: str) -> str:
    if is_sentinel_url(text):
        parse_sentinel_url(text)  # a ValueError names what is wrong
        return text
    if text and not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be empty (in-process broker), a redis:// URL or a redis+sentinel:// URL")
    return text


def _stats_k(text: str) -> int:
    value = int(text)
    if value < 3:
        raise ValueError("must be a whole number of at least 3")
    return value


def _opening_hours(text: str) -> tuple[int, int] | None:
    """Empty: the helpline pack's week (helpline.opening); else one range for every day."""
    if not text.strip():
        return None
    try:
        return parse_range(text)
    except ValueError:
        raise ValueError("must be empty or look like 08:00-22:00 (00:00-24:00 means always open)") from None


def _timezone(text: str) -> ZoneInfo | None:
    if not text.strip():
        return None  # the helpline pack's, set in load_settings
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as Europe/Tirane") from exc


def _smtp_tls(text: str) -> str:
    if text not in {"starttls", "tls", "none"}:
        raise ValueError("must be starttls, tls or none")
    return text


def _origin(text: str) -> str:
    """Empty, or scheme://host[:port] with nothing after it: requests for any other Host are refused."""
    if not text:
        return text
    parts = urlsplit(text.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
            or parts.username or not parts.netloc.isascii():
        raise ValueError("must be like https://chat.example.al (scheme and host, an IDN in its xn-- form, no path)")
    return text.rstrip("/")


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


SETTINGS: tuple[Setting, ...] = (
    Setting("HELPLINE_DATABASE_URL", "sqlite+aiosqlite:///var/helpline.db",
            "SQLAlchemy URL: sqlite+aiosqlite:///path (embedded) or postgresql+asyncpg://… (behind PgBouncer in "
            "transaction pooling add ?pooler=transaction; docs/deploy.md)",
            _database_url, secret=True),
    Setting("HELPLINE_REDIS_URL", "",
            "Redis URL for pub/sub between processes, or a Sentinel set: redis+sentinel://host:port,host:port/"
            "service (docs/deploy.md); empty uses the in-process broker (one process only)",
            _redis_url, secret=True),
    Setting("HELPLINE_REDIS_PREFIX", "helpline:", "Prefix for every Redis key and channel"),
    Setting("HELPLINE_DATA_DIR", "var", "Folder for the embedded database, keys and the mail outbox", Path),
    Setting("HELPLINE_ORG_KEY_FILE", "var/org-signing.key",
            "Org Ed25519 signing key (secret). If the server can read it, staff keys are signed at "
            "enrolment; keep it offline in production and sign with `helpline keys sign`", Path),
    Setting("HELPLINE_ORG_PUBLIC_KEY_FILE", "var/org-public.key",
            "Org public key, pinned into the browser bundles", Path),
    Setting("HELPLINE_SECRET_FILE", "var/server-secret.key",
            "Server secret for keyed hashes (rate limits) and session signing; created if absent", Path),
    Setting("HELPLINE_HOST", "127.0.0.1", "Address `helpline serve` listens on"),
    Setting("HELPLINE_PORT", "8000", "Port `helpline serve` listens on", _positive_int),
    Setting("HELPLINE_WORKERS", "1", "Worker processes for `helpline serve` (more than 1 needs Redis)",
            _positive_int),
    Setting("HELPLINE_PUBLIC_ORIGIN", "",
            "Origin browsers use, e.g. https://chat.example.al; when set, requests for any other Host are "
            "refused (421) except /healthz (empty: taken from the Host header)", _origin),
    Setting("HELPLINE_COOKIE_SECURE", "true", "Send staff cookies only over HTTPS (and http://127.0.0.1)",
            _bool),
    Setting("HELPLINE_OPENING_HOURS", "",
            "Chat hours for every day in HELPLINE_TIMEZONE, e.g. 08:00-22:00 (empty: the helpline pack's week and "
            "holidays, docs/packs.md)", _opening_hours),
    Setting("HELPLINE_TIMEZONE", "", "Time zone of the opening hours (empty: the helpline pack's)", _timezone),
    Setting("HELPLINE_QUICK_EXIT_URL", "https://www.google.com/",
            "Where the child page's quick exit goes (replacing the page in the history)"),
    Setting("HELPLINE_MAX_FRAME_BYTES", "65536", "Largest WebSocket frame accepted", _positive_int),
    Setting("HELPLINE_MAX_MESSAGE_BYTES", "16384", "Largest encrypted message body (raw bytes)",
            _positive_int),
    Setting("HELPLINE_FRAMES_PER_MINUTE", "120", "Frames one connection may send per minute",
            _positive_int),
    Setting("HELPLINE_MAX_ERRORS_PER_MINUTE", "60",
            "Errors after which a connection is closed as abusive", _positive_int),
    Setting("HELPLINE_SILENT_SECONDS", "120",
            "A socket that sends nothing for this long is closed as gone (the pages ping every 25 s)",
            _positive_int),
    Setting("HELPLINE_CHILD_AUTOLOCK_MINUTES", "5",
            "Idle minutes after which the child's page hides the chat until the resume code is typed "
            "(a decimal such as 0.5 is allowed)", _positive_float),
    Setting("HELPLINE_POW_QUEUE_THRESHOLD", "30",
            "Waiting chats from which new child chats must first solve a small proof of work (off again below)",
            _positive_int),
    Setting("HELPLINE_POW_BITS", "14",
            "Difficulty of that proof of work: leading zero bits of a SHA-512 (each bit doubles the work)", _pow_bits),
    Setting("HELPLINE_POW_MAX_BITS", "15",
            "Highest difficulty the proof of work rises to: one bit more each time the queue or the rate of new "
            "chats doubles (keep a cheap phone's solving time under 2 s, docs/performance.md)", _pow_bits),
    Setting("HELPLINE_NEW_CHATS_PER_MINUTE", "300",
            "New child chats per minute the whole helpline takes without proof of work; beyond it each new chat "
            "solves one (a start with a solved proof is never refused by this limit)", _positive_int),
    Setting("HELPLINE_NEW_CHATS_PER_DEVICE", "10",
            "New child chats one device token (or one resume code) may start per hour", _positive_int),
    Setting("HELPLINE_EMPTY_CHAT_MINUTES", "15",
            "A waiting chat in which the child wrote nothing leaves the queue by itself after this many minutes "
            "(a decimal such as 0.5 is allowed)", _positive_float),
    Setting("HELPLINE_MAX_CHATS", "3", "Default number of chats a counsellor holds at once", _positive_int),
    Setting("HELPLINE_REQUIRE_WRAP_UP", "true",
            "A counsellor records the case of an ended chat before accepting the next one", _bool),
    Setting("HELPLINE_LONG_WAIT_MINUTES", "5", "A child waiting longer than this alerts supervisors", _positive_int),
    Setting("HELPLINE_MESSAGE_OFFER_MINUTES", "20",
            "A waiting child whose estimated wait is longer than this (or who has no counsellor on duty) is "
            "offered our number and a message the next counsellor answers (a decimal is allowed)", _positive_float),
    Setting("HELPLINE_TAKEOVER_AFTER_SECONDS", "180",
            "A chat whose counsellor's console has been gone this long may be taken over by a supervisor or "
            "returned to the queue (ADR 0027)", _positive_int),
    Setting("HELPLINE_THROTTLE_MAX_ROWS", "10000",
            "Most rows the failure counters (sign-in, resume) may hold; past it the least telling are "
            "dropped, never a lock (ADR 0023)", _positive_int),
    Setting("HELPLINE_SESSION_IDLE_MINUTES", "30",
            "Staff session idle timeout; open console sockets close when it passes (a decimal is allowed)",
            _positive_float),
    Setting("HELPLINE_SESSION_MAX_HOURS", "12",
            "Staff session absolute timeout; open console sockets close when it passes (a decimal is allowed)",
            _positive_float),
    Setting("HELPLINE_LOG_LEVEL", "INFO", "Log level", _log_level),
    Setting("HELPLINE_ACK_EMERGENCY_MINUTES", "60",
            "Minutes an agency has to acknowledge an emergency referral before it escalates", _positive_int),
    Setting("HELPLINE_ACK_URGENT_MINUTES", "1440",
            "Minutes an agency has to acknowledge an urgent referral before it escalates", _positive_int),
    Setting("HELPLINE_ACK_ROUTINE_MINUTES", "4320",
            "Minutes an agency has to acknowledge a routine referral before it escalates", _positive_int),
    Setting("HELPLINE_ACTION_EMERGENCY_HOURS", "24",
            "Hours an agency has to act on an emergency referral after acknowledging it, unless it sets a date",
            _positive_float),
    Setting("HELPLINE_ACTION_URGENT_HOURS", "72",
            "Hours an agency has to act on an urgent referral after acknowledging it, unless it sets a date",
            _positive_float),
    Setting("HELPLINE_ACTION_ROUTINE_HOURS", "240",
            "Hours an agency has to act on a routine referral after acknowledging it, unless it sets a date",
            _positive_float),
    Setting("HELPLINE_FOLLOW_REMINDER_HOURS", "24",
            "Hours before an action date that the agency's officers are reminded (at most half the time given)",
            _positive_float),
    Setting("HELPLINE_FOLLOW_STEP_HOURS", "24",
            "Hours between the escalation steps of a missed action date: the agency's fallback contact, the "
            "helpline's supervisors, then the State Agency", _positive_float),
    Setting("HELPLINE_FOLLOW_STATE_AGENCY", "pack",
            "Directory code of the agency told last when an action date is missed (in Albania the State Agency "
            "for the Rights and Protection of the Child); pack takes the helpline pack's routing.state_agency; "
            "empty stops at the supervisors"),
    Setting("HELPLINE_SMTP_HOST", "",
            "Mail server for referral notices; empty writes each notice to the outbox folder in HELPLINE_DATA_DIR"),
    Setting("HELPLINE_SMTP_PORT", "587", "Mail server port", _positive_int),
    Setting("HELPLINE_SMTP_TLS", "starttls", "starttls, tls (implicit, port 465) or none (local relay only)",
            _smtp_tls),
    Setting("HELPLINE_SMTP_USERNAME", "", "Mail server user name (empty: no authentication)"),
    Setting("HELPLINE_SMTP_PASSWORD", "", "Mail server password", secret=True),
    Setting("HELPLINE_MAIL_FROM", "helpline@localhost", "Sender address of referral notices"),
    Setting("HELPLINE_NOTICE_RETRY_SECONDS", "60",
            "Wait before retrying a notice that failed; doubles each attempt, at most one hour", _positive_int),
    Setting("HELPLINE_NOTICE_MAX_ATTEMPTS", "12", "Attempts before a notice is marked failed for admins",
            _positive_int),
    Setting("HELPLINE_WORKER_SECONDS", "15",
            "How often the background worker sends due notices and escalates overdue referrals", _positive_int),
    Setting("HELPLINE_STATS_K", "5",
            "Statistics show any count below this as \"< k\" and round the others to multiples of it (at least 3)",
            _stats_k),
    Setting("HELPLINE_RETENTION_DAYS", "90",
            "Days after a conversation or referral closes before its messages, notes and contents are purged "
            "(counts for statistics stay)", _positive_int),
    Setting("HELPLINE_PURGE_INTERVAL_MINUTES", "60",
            "How often each server process runs the retention purge (also at start)", _positive_int),
    Setting("HELPLINE_TIMING_FILE", "",
            "Benchmarks only: each process writes its server-side delivery times (no content) to "
            "<file>.<pid>.json at shutdown; empty keeps none"),
    # Operator endpoints (ADR 0032).
    Setting("HELPLINE_METRICS_TOKEN", "",
            "Bearer token Prometheus sends for /metrics (empty: /metrics answers 404); keep /metrics off the "
            "proxy (deploy/Caddyfile)", secret=True),
    # Voice calls through the helpline's own TURN server (coturn, ADR 0033).
    Setting("HELPLINE_TURN_URL", "",
            "The helpline's TURN server for voice calls, e.g. turn:turn.example.al:3478?transport=udp (empty: no "
            "voice calls); pages use only this server, relay only"),
    Setting("HELPLINE_TURN_SECRET", "",
            "coturn's static-auth-secret (use-auth-secret): credentials per call are an HMAC of expiry:call id",
            secret=True),
    Setting("HELPLINE_TURN_TTL_SECONDS", "3600", "How long a call's TURN credentials work", _positive_int),
    # Translation testing (ADR 0039).
    Setting("HELPLINE_PSEUDO_LOCALE", "false",
            "Adds the pseudo-locale `qps` (accented, lengthened text from `make catalogs`) to the languages, to "
            "see what was never translated; never in production", _bool),
)


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, attr: str) -> Any:
        try:
            return self.values["HELPLINE_" + attr.upper()]
        except KeyError:
            raise AttributeError(attr) from None

    def __repr__(self) -> str:
        shown = {s.name: ("***" if s.secret else self.values[s.name]) for s in SETTINGS}
        return f"Settings({shown})"

    @property
    def uses_sqlite(self) -> bool:
        return str(self.database_url).startswith("sqlite")


def read_dotenv(path: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of a ``.env`` file (empty if there is none)."""
    found: dict[str, str] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip().strip('"').strip("'")
    return found


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Reads and validates every setting; raises SettingsError naming each bad one."""
    env = dict(os.environ if environ is None else environ)
    file_values = read_dotenv(dotenv) if dotenv is not None else {}
    known = {s.name for s in SETTINGS}
    problems = [f"{name} is not a Helpline setting" for name in env if name.startswith("HELPLINE_")
                and name not in known and not name.startswith("HELPLINE_TEST_")]
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.name, file_values.get(setting.name, setting.default))
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{setting.name}: {exc}")
    if not problems and values["HELPLINE_TIMEZONE"] is None:
        _pack_timezone(values, problems)
    if problems:
        raise SettingsError("Helpline cannot start:\n  " + "\n  ".join(problems))
    return Settings(values)


def _pack_timezone(values: dict[str, Any], problems: list[str]) -> None:
    from helpline import pack  # the pack is found through the data folder set above

    try:
        values["HELPLINE_TIMEZONE"] = _timezone(pack.for_data_dir(values["HELPLINE_DATA_DIR"]).timezone)
    except (ValueError, OSError) as exc:
        problems.append(f"the helpline pack's time zone: {exc}")
