"""Who may read, write, refer or transfer a conversation, its case record, or a referral: the one rule.

The permission matrix (`helpline.security.permissions`) says what a role may do at all; this module
adds the object: the staff member's relation to the conversation, case or referral. It works on plain
facts (ids, roles, the holder, whether a grant exists) so the core decides without importing a
feature package, and it gives the repositories the same rule as SQL conditions, so a query that
lists "readable by" keeps authorisation in the query (STYLE.md). docs/permissions.md shows the
table; tests/unit/test_access.py checks every role x relation x action against it.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, true

from helpline.models import Case, CaseMember, Conversation, ConversationAccess, Referral, Role
from helpline.security import permissions


class Thing(enum.StrEnum):
    CONVERSATION = "conversation"  # the live chat: its messages and frames
    CASE = "case"  # the case record of a conversation (a contact record)
    REFERRAL = "referral"
    CASE_FILE = "case_file"  # a case: the contact records about one child over time, its team and tasks


class Action(enum.StrEnum):
    READ = "read"
    WRITE = "write"  # a message, the case record, a step or reply in a referral's thread
    REFER = "refer"  # send the child's case to an agency (or ask to, without consent)
    TRANSFER = "transfer"  # hand the chat to a colleague; send a referral to another agency


class Relation(enum.StrEnum):
    """The closest tie a staff member has to the object, strongest first."""

    HOLDER = "holder"  # holds the chat (or held it to its end); made the referral
    GRANTED = "granted"  # was given the chat's key by its holder or the child (a joined supervisor, ADR 0009)
    MEMBER = "member"  # on the team of a case (a colleague its owner added; of a contact: of its case)
    SUPERVISOR = "supervisor"  # no tie of their own, but supervises the helpline
    FORMER_HOLDER = "former_holder"  # held the chat and handed it on
    AGENCY_OFFICER = "agency_officer"  # an officer of the agency the referral was sent to
    OTHER = "other"


# A referral's first state (referral.model.ReferralState.DRAFT; the core imports no feature package).
DRAFT = "draft"

H, G, SUP, OFF, MEM = Relation.HOLDER, Relation.GRANTED, Relation.SUPERVISOR, Relation.AGENCY_OFFICER, Relation.MEMBER

# Which relations may take each action (docs/permissions.md, "Who may see this"). A granted colleague
# works the chat with its holder, so may do with the chat and its case all the holder may do.
RULE: dict[tuple[Thing, Action], frozenset[Relation]] = {
    (Thing.CONVERSATION, Action.READ): frozenset({H, G}),
    (Thing.CONVERSATION, Action.WRITE): frozenset({H, G}),
    (Thing.CONVERSATION, Action.REFER): frozenset({H, G}),
    (Thing.CONVERSATION, Action.TRANSFER): frozenset({H, G}),
    (Thing.CASE, Action.READ): frozenset({H, G, MEM, SUP}),
    (Thing.CASE, Action.WRITE): frozenset({H, G, SUP}),
    (Thing.CASE, Action.REFER): frozenset({H, G, SUP}),
    (Thing.CASE, Action.TRANSFER): frozenset(),  # a case follows its chat; it is never handed on alone
    (Thing.REFERRAL, Action.READ): frozenset({H, SUP, OFF}),
    (Thing.REFERRAL, Action.WRITE): frozenset({H, SUP, OFF}),
    (Thing.REFERRAL, Action.REFER): frozenset(),  # a referral is re-routed (transfer), not referred again
    (Thing.REFERRAL, Action.TRANSFER): frozenset({H, SUP}),
    # A case (ADR 0026): its owner is the holder; its team reads and works it; only the owner (or a
    # supervisor) adds a colleague or hands the case on. Referrals are made from its contacts.
    (Thing.CASE_FILE, Action.READ): frozenset({H, MEM, SUP}),
    (Thing.CASE_FILE, Action.WRITE): frozenset({H, MEM, SUP}),
    (Thing.CASE_FILE, Action.REFER): frozenset(),
    (Thing.CASE_FILE, Action.TRANSFER): frozenset({H, SUP}),
}

# The role the relation asks for on top of the matrix: the action in the matrix each pair needs.
_MATRIX_ACTION: dict[tuple[Thing, Action], str] = {
    (Thing.CONVERSATION, Action.READ): "chat.work",
    (Thing.CONVERSATION, Action.WRITE): "chat.work",
    (Thing.CONVERSATION, Action.REFER): "disclosure.ask",
    (Thing.CONVERSATION, Action.TRANSFER): "chat.work",
    (Thing.CASE, Action.READ): "case.read",
    (Thing.CASE, Action.WRITE): "case.write",
    (Thing.CASE, Action.REFER): "referral.create",
    (Thing.CASE, Action.TRANSFER): "chat.work",
    (Thing.REFERRAL, Action.READ): "referral.track",
    (Thing.REFERRAL, Action.WRITE): "referral.track",
    (Thing.REFERRAL, Action.REFER): "referral.create",
    (Thing.REFERRAL, Action.TRANSFER): "referral.track",
    (Thing.CASE_FILE, Action.READ): "case.read",
    (Thing.CASE_FILE, Action.WRITE): "case.write",
    (Thing.CASE_FILE, Action.REFER): "referral.create",
    (Thing.CASE_FILE, Action.TRANSFER): "case.write",
}


def _relation_counts(role: str, relation: Relation, thing: Thing, action: Action) -> bool:
    """A relation counts only for a role that has it: supervising is a role; an officer acts in the portal."""
    if relation is Relation.SUPERVISOR:
        return permissions.allowed(role, "case.read_all")
    if relation is Relation.AGENCY_OFFICER:
        return permissions.allowed(role, "referral.portal")
    return permissions.allowed(role, _MATRIX_ACTION[(thing, action)])


def may(role: str, relation: Relation, thing: Thing, action: Action) -> bool:
    """True if a staff member of this role, with this relation to the object, may take the action."""
    return relation in RULE[(thing, action)] and _relation_counts(role, relation, thing, action)


# -- relations from facts ---------------------------------------------------------------------------


def conversation_relation(staff_id: int, role: str, *, holder_id: int | None, granted: bool,
                          former_holder: bool = False, case_member: bool = False) -> Relation:
    """The staff member's relation to a conversation (and so to its case record). ``case_member``:
    they are on the team of the case its record is linked to."""
    if holder_id is not None and holder_id == staff_id:
        return Relation.HOLDER
    if granted:
        return Relation.GRANTED
    if case_member:
        return Relation.MEMBER
    if permissions.allowed(role, "case.read_all"):
        return Relation.SUPERVISOR
    if former_holder:
        return Relation.FORMER_HOLDER
    return Relation.OTHER


def case_file_relation(staff_id: int, role: str, *, owner_id: int, member: bool) -> Relation:
    """The staff member's relation to a case: its owner, on its team, a supervisor, or other."""
    if owner_id == staff_id:
        return Relation.HOLDER
    if member:
        return Relation.MEMBER
    if permissions.allowed(role, "case.read_all"):
        return Relation.SUPERVISOR
    return Relation.OTHER


def referral_relation(staff_id: int, role: str, staff_agency_id: int | None, *, created_by: int | None,
                      agency_id: int, state: str) -> Relation:
    """The staff member's relation to a referral. An agency sees a referral once it was sent (not a draft)."""
    if role == Role.OFFICER:
        if staff_agency_id is not None and staff_agency_id == agency_id and state != DRAFT:
            return Relation.AGENCY_OFFICER
        return Relation.OTHER
    if created_by is not None and created_by == staff_id:
        return Relation.HOLDER
    if permissions.allowed(role, "case.read_all"):
        return Relation.SUPERVISOR
    return Relation.OTHER


# -- the same rule as SQL conditions ----------------------------------------------------------------


def granted_condition(who: Any, conv_id: Any = Conversation.id) -> ColumnElement[bool]:
    """SQL: the staff member (an id or a bound parameter) was granted the conversation."""
    return exists().where(ConversationAccess.conversation_id == conv_id, ConversationAccess.staff_id == who)


def works_the_chat(who: Any, holder: Any = Conversation.counsellor_id, conv_id: Any = Conversation.id
                   ) -> ColumnElement[bool]:
    """SQL: the staff member holds the chat or was granted it, the relations that may read and write
    a conversation. Takes columns so the prepared message statement can use it on the bare table."""
    return or_(holder == who, granted_condition(who, conv_id))


def conversation_condition(staff_id: int, role: str, thing: Thing, action: Action) -> ColumnElement[bool]:
    """SQL on `Conversation`: the rows on which (thing, action) is allowed for this staff member."""
    if may(role, Relation.SUPERVISOR, thing, action):
        return true()
    parts: list[ColumnElement[bool]] = []
    if may(role, Relation.HOLDER, thing, action):
        parts.append(Conversation.counsellor_id == staff_id)
    if may(role, Relation.GRANTED, thing, action):
        parts.append(granted_condition(staff_id))
    return or_(*parts) if parts else false()


def referral_condition(staff_id: int, role: str, staff_agency_id: int | None, action: Action) -> ColumnElement[bool]:
    """SQL on `Referral`: the referrals on which the action is allowed for this staff member."""
    if role == Role.OFFICER:
        if staff_agency_id is None or not may(role, Relation.AGENCY_OFFICER, Thing.REFERRAL, action):
            return false()
        return and_(Referral.agency_id == staff_agency_id, Referral.state != DRAFT)
    if may(role, Relation.SUPERVISOR, Thing.REFERRAL, action):
        return true()
    if may(role, Relation.HOLDER, Thing.REFERRAL, action):
        return Referral.created_by == staff_id
    return false()


def case_file_condition(staff_id: int, role: str, action: Action) -> ColumnElement[bool]:
    """SQL on `Case`: the cases on which the action is allowed for this staff member."""
    if may(role, Relation.SUPERVISOR, Thing.CASE_FILE, action):
        return true()
    parts: list[ColumnElement[bool]] = []
    if may(role, Relation.HOLDER, Thing.CASE_FILE, action):
        parts.append(Case.owner_id == staff_id)
    if may(role, Relation.MEMBER, Thing.CASE_FILE, action):
        parts.append(exists().where(CaseMember.case_id == Case.id, CaseMember.staff_id == staff_id))
    return or_(*parts) if parts else false()


def markdown_table() -> str:
    """The rule as docs/permissions.md shows it: for each object and action, the relations allowed."""
    relations = list(Relation)
    names = " | ".join(r.value.replace("_", " ") for r in relations)
    lines = [f"| object | action | {names} | a holder or granted colleague needs |",
             "|---|---|" + "---|" * len(relations) + "---|"]
    for (thing, action), allowed in RULE.items():
        cells = " | ".join("yes" if r in allowed else "·" for r in relations)
        lines.append(f"| {thing.value} | {action.value} | {cells} | `{_MATRIX_ACTION[(thing, action)]}` |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
