"""The permission matrix: which role may do which action. Every route and frame asks here.

docs/permissions.md shows the same table (a test checks that they agree). Who may act on a
given conversation, case or referral (a counsellor's own chats, an officer's own agency) is
`helpline.security.access`, on top of this.
"""

from __future__ import annotations

from helpline.models import Role

C, S, OFF, M, A = Role.COUNSELLOR, Role.SUPERVISOR, Role.OFFICER, Role.MANAGER, Role.ADMIN
HELPLINE = frozenset({C, S})
EVERYONE = frozenset(Role)

MATRIX: dict[str, tuple[frozenset[Role], str]] = {
    # own account
    "account.self": (EVERYONE, "see and change their own account, password, second factor; sign out"),
    # console
    "console.use": (frozenset({C, S, A}), "open the console"),
    "chat.accept": (HELPLINE, "take a chat from the queue"),
    "chat.work": (HELPLINE, "write in, transfer, end or block a chat they hold"),
    "chat.ask_supervisor": (HELPLINE, "raise an 'ask a supervisor' or emergency alert; read the emergency protocol"),
    "disclosure.ask": (HELPLINE, "ask to share without the child's consent when a life is at risk (their chat)"),
    "canned.use": (HELPLINE, "list and insert canned replies"),
    "case.write": (HELPLINE, "record the case of a chat they hold, held or were granted"),
    "case.read": (HELPLINE, "list cases and read a case they held or were granted"),
    "staff.directory": (HELPLINE, "see colleagues' names, keys and load (to transfer)"),
    # supervisor
    "supervise.view": (frozenset({S}), "see all live chats, the queue, counsellors' load and alerts"),
    "supervise.act": (frozenset({S}), "reassign chats, join a granted chat, set a counsellor's limit"),
    "case.read_all": (frozenset({S}), "read every case and its history"),
    "disclosure.decide": (frozenset({S}), "approve or refuse a colleague's request to share without consent"),
    # admin
    "admin.staff": (frozenset({A}), "create staff accounts, change roles, lift locks, reset keys"),
    "admin.keys": (frozenset({A}), "sign pending staff keys in the browser when the org key is online"),
    "admin.canned": (frozenset({A}), "edit canned replies"),
    "admin.settings": (frozenset({A}), "edit opening hours and limits"),
    "admin.agencies": (frozenset({A}), "edit the agency directory and officers"),
    "admin.outbox": (frozenset({A}), "see the notices the embedded mail outbox holds"),
    "audit.verify": (frozenset({A, S}), "check the audit chain"),
    # referrals
    "referral.create": (HELPLINE, "refer a case to an agency"),
    "referral.track": (HELPLINE, "follow the referrals they made; supervisors follow all"),
    "referral.portal": (frozenset({OFF}), "read and act on their agency's referrals"),
    # statistics
    "stats.view": (frozenset({M, S, A}), "see anonymised statistics and export them"),
}


def allowed(role: str, action: str) -> bool:
    """True if the role may take the action; an unknown action is refused (and is a bug)."""
    entry = MATRIX.get(action)
    if entry is None:
        raise KeyError(f"unknown action {action!r}: add it to helpline.security.permissions.MATRIX")
    return role in entry[0]


def roles_for(action: str) -> frozenset[Role]:
    return MATRIX[action][0]


def markdown_table() -> str:
    """The matrix as docs/permissions.md shows it."""
    roles = list(Role)
    lines = ["| action | " + " | ".join(r.value for r in roles) + " | what it allows |",
             "|---|" + "---|" * len(roles) + "---|"]
    for action, (who, what) in MATRIX.items():
        cells = " | ".join("yes" if r in who else "·" for r in roles)
        lines.append(f"| `{action}` | {cells} | {what} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
