"""The one access rule: every role x relation x action on a conversation, a case and a referral.

The expected table is written out here by hand from docs/permissions.md ("Who may see this"), not
computed from the module, so a change to the rule must change this file and the doc together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.models import Role
from helpline.security import access
from helpline.security.access import Action, Relation, Thing

ROOT = Path(__file__).resolve().parents[2]
C, S, OF, M, A = Role.COUNSELLOR, Role.SUPERVISOR, Role.OFFICER, Role.MANAGER, Role.ADMIN
HOLDER, GRANTED, SUP, FORMER, OFFICER, OTHER, MEMBER = (
    Relation.HOLDER, Relation.GRANTED, Relation.SUPERVISOR, Relation.FORMER_HOLDER, Relation.AGENCY_OFFICER,
    Relation.OTHER, Relation.MEMBER)

WORKS_THE_CHAT = {(C, HOLDER), (C, GRANTED), (S, HOLDER), (S, GRANTED)}
CASE_WORK = WORKS_THE_CHAT | {(S, SUP)}
CASE_TEAM = {(C, HOLDER), (S, HOLDER), (C, MEMBER), (S, MEMBER), (S, SUP)}
REFERRAL_READERS = {(C, HOLDER), (S, HOLDER), (S, SUP), (OF, OFFICER)}

EXPECTED: dict[tuple[Thing, Action], set[tuple[Role, Relation]]] = {
    (Thing.CONVERSATION, Action.READ): WORKS_THE_CHAT,
    (Thing.CONVERSATION, Action.WRITE): WORKS_THE_CHAT,
    (Thing.CONVERSATION, Action.REFER): WORKS_THE_CHAT,
    (Thing.CONVERSATION, Action.TRANSFER): WORKS_THE_CHAT,
    (Thing.CASE, Action.READ): CASE_WORK | {(C, MEMBER), (S, MEMBER)},
    (Thing.CASE, Action.WRITE): CASE_WORK,
    (Thing.CASE, Action.REFER): CASE_WORK,
    (Thing.CASE, Action.TRANSFER): set(),
    (Thing.REFERRAL, Action.READ): REFERRAL_READERS,
    (Thing.REFERRAL, Action.WRITE): REFERRAL_READERS,
    (Thing.REFERRAL, Action.REFER): set(),
    (Thing.REFERRAL, Action.TRANSFER): {(C, HOLDER), (S, HOLDER), (S, SUP)},
    (Thing.CASE_FILE, Action.READ): CASE_TEAM,
    (Thing.CASE_FILE, Action.WRITE): CASE_TEAM,
    (Thing.CASE_FILE, Action.REFER): set(),
    (Thing.CASE_FILE, Action.TRANSFER): {(C, HOLDER), (S, HOLDER), (S, SUP)},
}

CELLS = [(thing, action, role, relation)
         for thing in Thing for action in Action for role in Role for relation in Relation]


def test_the_table_covers_every_object_and_action() -> None:
    assert set(EXPECTED) == {(thing, action) for thing in Thing for action in Action}
    assert set(access.RULE) == set(EXPECTED)
    assert len(CELLS) == 4 * 4 * 5 * 7


@pytest.mark.parametrize(("thing", "action", "role", "relation"), CELLS,
                         ids=[f"{t}-{a}-{r}-{rel}" for t, a, r, rel in CELLS])
def test_every_cell(thing: Thing, action: Action, role: Role, relation: Relation) -> None:
    assert access.may(role, relation, thing, action) is ((role, relation) in EXPECTED[(thing, action)])


def test_the_granted_colleague_works_the_chat_and_its_case() -> None:
    """The decided case (docs/permissions.md): granted may record the case and refer it, like the holder."""
    for action in (Action.READ, Action.WRITE, Action.REFER):
        assert access.may(C, GRANTED, Thing.CASE, action)
    assert not access.may(C, GRANTED, Thing.REFERRAL, Action.READ)


def test_conversation_relations_from_facts() -> None:
    def rel(role: Role, *, holder: int | None = 7, granted: bool = False, former: bool = False) -> Relation:
        return access.conversation_relation(1, role, holder_id=holder, granted=granted, former_holder=former)

    assert rel(C, holder=1) is HOLDER
    assert rel(S, holder=1, granted=True) is HOLDER
    assert rel(C, granted=True) is GRANTED
    assert rel(S, granted=True) is GRANTED
    assert rel(S) is SUP
    assert rel(C, former=True) is FORMER
    assert rel(C) is OTHER
    assert rel(C, holder=None) is OTHER
    for role in (OF, M, A):
        assert rel(role) is OTHER
    assert access.conversation_relation(1, C, holder_id=7, granted=False, case_member=True) is MEMBER


def test_case_file_relations_from_facts() -> None:
    """A case's owner holds it; a colleague she added is a member; a supervisor supervises; no one else."""
    def rel(role: Role, *, owner: int = 7, member: bool = False) -> Relation:
        return access.case_file_relation(1, role, owner_id=owner, member=member)

    assert rel(C, owner=1) is HOLDER
    assert rel(C, member=True) is MEMBER
    assert rel(S) is SUP
    assert rel(S, member=True) is MEMBER
    assert rel(C) is OTHER  # another counsellor: neither the server's rule nor a wrapped key lets her in
    for role in (OF, M, A):
        assert rel(role) is OTHER
        assert not access.may(role, rel(role, member=True), Thing.CASE_FILE, Action.READ)
    assert access.may(C, MEMBER, Thing.CASE_FILE, Action.WRITE)
    assert not access.may(C, MEMBER, Thing.CASE_FILE, Action.TRANSFER)  # only the owner adds colleagues


def test_referral_relations_from_facts() -> None:
    def rel(role: Role, *, agency: int | None = None, created_by: int | None = 9, state: str = "sent") -> Relation:
        return access.referral_relation(1, role, agency, created_by=created_by, agency_id=5, state=state)

    assert rel(C, created_by=1) is HOLDER
    assert rel(S, created_by=1) is HOLDER
    assert rel(S) is SUP
    assert rel(C) is OTHER
    assert rel(OF, agency=5) is OFFICER
    assert rel(OF, agency=5, state="draft") is OTHER  # an agency never sees a draft
    assert rel(OF, agency=6) is OTHER
    assert rel(OF) is OTHER
    assert rel(M) is OTHER
    assert rel(A, created_by=1) is HOLDER  # and yet an admin may not read it: the role lacks the action
    assert not access.may(A, HOLDER, Thing.REFERRAL, Action.READ)


def test_the_doc_shows_the_rule_as_it_is() -> None:
    doc = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert access.markdown_table() in doc, "regenerate: python -m helpline.security.access"
