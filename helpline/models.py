"""SQLAlchemy models: the schema the Alembic migrations build.

Message bodies, wrapped keys and case notes are ciphertext; no column holds a child's
address, user agent or message text.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if isinstance(value, dt.datetime) else value


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    MANAGER = "manager"
    ADMIN = "admin"


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))  # what colleagues see, never a child
    # The first name a child sees for this person (ADR 0019); None: the page's neutral word.
    child_name: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The account's salt for the browser's sign-in derivation (ADR 0021), handed out before sign-in.
    kdf_salt: Mapped[str] = mapped_column(String(32))
    # 1: legacy (hash of the password itself; key sealed under PBKDF2(password, kdf_salt));
    # 2: hash of the derived auth value, key still under the legacy wrapping key; 3: fully derived.
    signin_version: Mapped[int] = mapped_column(SmallInteger, default=3, server_default="1")
    public_key: Mapped[str | None] = mapped_column(String(64))
    key_signature: Mapped[str | None] = mapped_column(String(128))
    encrypted_private_key: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="sq")
    max_chats: Mapped[int | None] = mapped_column(SmallInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # TOTP: the secret is sealed with the server secret; a code's time step is refused on reuse.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16), default="available")  # available, busy, break
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    key_reset_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def participant_id(self) -> str:
        return f"staff:{self.public_id}"

    @property
    def name_for_children(self) -> str | None:
        """The chosen first name, or None (the child's page then says a neutral word). Never the
        username, even if a row was written with one."""
        name = (self.child_name or "").strip()
        return name if name and name.casefold() != self.username.casefold() else None


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie value
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # False until the second factor (TOTP or a recovery code) has been given in this session.
    mfa_done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChildIdentity(Base):
    """What the server knows of a child: a hashed token and a public key. Nothing else."""

    __tablename__ = "child_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    block_reason: Mapped[str | None] = mapped_column(String(32))


class ConversationState(enum.StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    ENDED = "ended"
    ABANDONED = "abandoned"
    MESSAGE = "message"  # the child left a message for the next counsellor (ADR 0027)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child_identities.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ConversationState.QUEUED)
    urgency: Mapped[int] = mapped_column(SmallInteger, default=0)
    contact_by: Mapped[str] = mapped_column(String(8), default="child")
    age_band: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    in_danger: Mapped[bool | None] = mapped_column(Boolean)
    returning: Mapped[bool] = mapped_column("returning_child", Boolean, default=False)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(16))
    feedback: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_conversations_queue", "state", "urgency", "created_at"),)


class ConversationKey(Base):
    """The conversation key wrapped (NaCl box) for one participant."""

    __tablename__ = "conversation_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    participant: Mapped[str] = mapped_column(String(48))
    wrapped_key: Mapped[str] = mapped_column(String(128))
    wrapper_public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("conversation_id", "participant", name="uq_conversation_keys_participant"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text)  # b64u(nonce || secretbox): ciphertext only
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),
        # A client id is the sender's own: the child's and a counsellor's ids may coincide.
        UniqueConstraint("conversation_id", "sender", "client_id", name="uq_messages_sender_client_id"),
    )


class AuditEntry(Base):
    """Append-only, hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RecoveryCode(Base):
    """One-time second-factor codes, stored as keyed hashes."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Throttle(Base):
    """Failed attempts per keyed hash (of a username, a resume token, ...): never an address."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Agency(Base):
    """A service that receives referrals: a municipality's Child Protection Unit, a police unit, ..."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(24))  # cpu, police, police_cyber, state_agency, helpline, ...
    county: Mapped[str | None] = mapped_column(String(64))
    municipality: Mapped[str | None] = mapped_column(String(64))
    fallback_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationAccess(Base):
    """A staff member other than the counsellor who may read a conversation (a supervisor)."""

    __tablename__ = "conversation_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    granted_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    joined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("conversation_id", "staff_id", name="uq_conversation_access_staff"),)


class Transfer(Base):
    """A handover: to a named colleague or back to the queue, with a note under the conversation key."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    from_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    to_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(Text)  # b64u(nonce || secretbox) under the conversation key
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """'Ask a supervisor', an emergency, or a long wait: shown on every supervisor console until handled."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # help, emergency, long_wait, escalation
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


class Disclosure(Base):
    """Two-person rule: sharing what a child said without their consent, asked by one person and
    decided by a supervisor, both with a reason. Items are kinds of detail (referral consent items),
    never the detail itself; the reasons are staff's justification (docs/emergencies.md)."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12))  # pending, approved, refused, used
    asked_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    asked_reason: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_reason: Mapped[str | None] = mapped_column(String(32))
    referral_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Debrief(Base):
    """A supervisor's wellbeing check with a counsellor after an emergency: counted, never described."""

    __tablename__ = "debriefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    wellbeing: Mapped[str] = mapped_column(String(16))  # fine, shaken, needs_support
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseRecord(Base):
    """The record of ONE contact on any channel (chat, phone, e-mail, visit, letter, report): how it is
    counted (Child Helpline International's framework) plus an encrypted note. A chat's record hangs
    on its conversation; any other contact has none (docs/adr/0025).

    Every column but ``note``/``note_keys`` is metadata that statistics may read.
    """

    __tablename__ = "case_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for a contact that did not come through the chat (a call, an e-mail, a visit: ADR 0025).
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                        unique=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    contact_type: Mapped[str] = mapped_column(String(24))  # counselling, silent, prank, abusive, ...
    primary_category: Mapped[str | None] = mapped_column(String(64), index=True)
    secondary_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk: Mapped[str] = mapped_column(String(12), default="none")
    age_band: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(24))
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)  # ciphertext, see docs/encryption.md
    note_keys: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    taxonomy_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case this contact belongs to (issue 18, migration 0007b) and its note key sealed under the
    # case key by a team member's browser, so the case's team reads the note (ADR 0026).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    case_note_key: Mapped[str | None] = mapped_column(String(128))
    # -- one contact on any channel (migration 0007a, ADR 0025) --
    channel: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    ref: Mapped[str | None] = mapped_column(String(24), unique=True)  # the browser's id of a non-chat contact
    contact_by: Mapped[str | None] = mapped_column(String(16))  # child, adult, professional, not_answered
    municipality: Mapped[str | None] = mapped_column(String(64))
    county: Mapped[str | None] = mapped_column(String(64))  # derived from the municipality
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("locale", "shortcut", name="uq_canned_replies_shortcut"),)


class ConfigValue(Base):
    """Settings admins change in the browser (opening hours, limits); environment gives defaults."""

    __tablename__ = "config_values"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- referrals (referral/, migration 0003) ------------------------------------------------------


class Referral(Base):
    """A case sent to an agency. Routing and statistics read the metadata; the content is ciphertext
    under a referral key that only the readers in ``referral_keys`` can unwrap."""

    __tablename__ = "referrals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    urgency: Mapped[str] = mapped_column(String(12))  # emergency, urgent, routine
    chi_category: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    outcome: Mapped[str | None] = mapped_column(String(32))
    return_reason: Mapped[str | None] = mapped_column(String(32))
    # Which kinds of detail were shared, and whether with the child's consent: metadata, not the detail.
    consent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content: Mapped[str] = mapped_column(Text)  # b64u(nonce || secretbox) under the referral key
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)  # None: a public report
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_records.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(12), default="helpline")  # helpline, report
    # A public report's status code, as a keyed hash (the reporter keeps the code).
    report_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # One referral to several agencies (ADR 0035): each agency's leg is a referral; the legs share a thread.
    thread_id: Mapped[str | None] = mapped_column(ForeignKey("referral_threads.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ack_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_referrals_due", "state", "ack_deadline_at"),)


class ReferralThread(Base):
    """The one thread of a referral sent to several agencies (ADR 0035): its legs (``referrals`` with
    this ``thread_id``) each keep their own key, details and state; the thread has a key of its own,
    wrapped for every reader of every leg, so each agency and the helpline read every message."""

    __tablename__ = "referral_threads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferralThreadKey(Base):
    """The thread key wrapped (NaCl box, by the wrapper's key) for one reader."""

    __tablename__ = "referral_thread_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("referral_threads.id", ondelete="CASCADE"))
    reader: Mapped[str] = mapped_column(String(48))  # staff:<public_id>
    wrapped_key: Mapped[str] = mapped_column(String(128))
    wrapper_public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("thread_id", "reader", name="uq_referral_thread_keys_reader"),)


class ReferralThreadMessage(Base):
    """One message in a shared thread: ciphertext under the thread key; ``agency_id`` names the agency
    whose officer wrote it (None: the helpline)."""

    __tablename__ = "referral_thread_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("referral_threads.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    actor: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferralKey(Base):
    """The referral key wrapped (NaCl box, by the sender's key) for one reader."""

    __tablename__ = "referral_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    reader: Mapped[str] = mapped_column(String(48))  # staff:<public_id>
    wrapped_key: Mapped[str] = mapped_column(String(128))
    wrapper_public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("referral_id", "reader", name="uq_referral_keys_reader"),)


class ReferralEvent(Base):
    """One step of a referral: a transition, an action taken, a question or an answer.

    ``body`` is ciphertext under the referral key; ``detail`` holds codes only (outcome, reason).
    """

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # transition, action, question, answer, escalation, keys
    actor: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfficerContact(Base):
    """Where an officer gets notices (only 'a referral is waiting', never its content)."""

    __tablename__ = "officer_contacts"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """An email waiting to go, going, sent or given up; the worker claims rows with a guarded UPDATE."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to: Mapped[str] = mapped_column("recipient", String(254))
    kind: Mapped[str] = mapped_column(String(24))  # referral_waiting, escalation
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_notices_due", "status", "next_attempt_at"),)


class Escalation(Base):
    """A referral's missed deadline, raised once: the unique key makes a second attempt fail."""

    __tablename__ = "referral_escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # ack_overdue
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("referral_id", "kind", name="uq_referral_escalations_kind"),)


# -- statistics (stats/, migration 0004) -----------------------------------------------


class StatsDaily(Base):
    """Daily roll-up of metadata counts: one row per (source, day, county, category, dimension, value).

    ``county`` and ``category`` hold '*' in the rows that sum over them, so an unfiltered view
    reads one row per value and day. Rebuilt per day by stats/rollups.py (idempotent).
    """

    __tablename__ = "stats_daily"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(1))  # c: conversations, r: referrals
    day: Mapped[dt.date] = mapped_column(Date)
    county: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    dim: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(140))
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # Covers the views' reads (one slice's counts over a period, its contacts per day) without a
        # table lookup or a sort: ten times faster at 1,000,000 contacts (migration 0007a).
        Index("ix_stats_daily_cover", "county", "category", "source", "dim", "value", "day", "n"),
        Index("ix_stats_daily_day", "day"),
    )


class StatsState(Base):
    """When the roll-ups were last brought up to date (one row per key)."""

    __tablename__ = "stats_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# Range scans by creation time for the roll-up job (the tables above are read, never changed, by it).
Index("ix_conversations_created_at", Conversation.created_at)
Index("ix_referrals_created_at", Referral.created_at)


# -- cases: the contacts about one child or family over time (issue 18, migration 0007b, ADR 0026) --


class Case(Base):
    """A case: an owner, a status, and the contact records linked to it (``CaseRecord.case_id``)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, closed
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseMember(Base):
    """One of a case's team, with the case key wrapped (box, ephemeral key) for them alone."""

    __tablename__ = "case_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    wrapped_key: Mapped[str] = mapped_column(String(128))
    wrapper_public_key: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "staff_id", name="uq_case_members_staff"),)


class CaseTask(Base):
    """A follow-up: who does it and by when. Its text is sealed under the case key."""

    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)  # ciphertext under the case key
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the owner was told it is due
    flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # supervisors were told it is overdue


class HandoverNote(Base):
    """A note for the next shift, sealed for every helpline staff key the org key signed."""

    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(Text)  # ciphertext
    note_keys: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    read_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

# -- following a referral through (issue 19, migration 0007d) ------------------------------------


class ReferralFollow(Base):
    """What an agency said it will do on an open referral and by when (a default from the urgency
    until it says). ``plan`` grows each time the date is set again, so the reminders and escalations
    of an earlier date (``referral_escalations`` kinds ``p<plan>:<step>``) never block the next."""

    __tablename__ = "referral_follow"

    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True)
    plan: Mapped[int] = mapped_column(Integer, default=1)
    action_kind: Mapped[str | None] = mapped_column(String(32))  # an action kind code; None: the default date
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # None once the referral is closed
    set_by: Mapped[str] = mapped_column(String(48))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the first action taken (statistics)

    __table_args__ = (Index("ix_referral_follow_due", "due_at"),)


class ReferralSupport(Base):
    """One kind of support the child received, recorded by the agency when it closes (codes only)."""

    __tablename__ = "referral_support"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # psychological, social, ..., none
    reason: Mapped[str | None] = mapped_column(String(32))  # why none
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("referral_id", "kind", name="uq_referral_support_kind"),)

# -- who is on duty, and whose console is gone (ADR 0027) ------------------------------------------


class StaffPresence(Base):
    """When a staff member's console was last heard from, and when its last socket closed.

    Written when a console socket opens or closes and, while one is open, at most once a minute
    from its pings; read to tell a child whether a counsellor is on duty and a supervisor whether a
    chat's counsellor is gone (chat/presence.py)."""

    __tablename__ = "staff_presence"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ServiceContact(Base):
    """How the public reaches a service of the directory (issue 19): phone, address, web, hours.

    Public contacts only (what a child may be shown), set by admins or a CSV import; the referral
    contacts (fallback address, officers) stay on agencies and officer_contacts."""

    __tablename__ = "service_contacts"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(200))
    hours: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

# -- voice calls (issue 24, docs/adr/0033-voice-calls.md) ---------------------------------------------


class VoiceCall(Base):
    """A voice call of a chat, as its counsellor's console reported it: how long, never what was said.
    A contact of the chat with channel "voice" (until case contacts carry channels, ADR 0033)."""

    __tablename__ = "voice_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(32))
    seconds: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("conversation_id", "call_id", name="uq_voice_calls_call"),)
