"""PostgreSQL: a batch of messages in two statements, whatever its size (docs/adr/0036).

chat/writer.py hands a batch here inside one transaction. The first statement checks every
sender at once (the same rules as chat/repository.py `_seq_statement`: a child in its own open
chat, a staff member who holds or was granted an active one) and locks the conversations that
pass, in the order of their ids, so two processes writing batches lock rows in one order and
cannot deadlock; it returns each one's last number. The numbers are then handed out here in the
batch's order, and the second statement raises each conversation's `last_seq` and inserts the
messages (a data-modifying CTE). Before, each message took its number in a round trip of its
own, so the writer's time grew with the batch and saturated near 700 messages a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, text

from chat import repository as repo
from helpline.models import ConversationState, utcnow


class Item(Protocol):  # chat/writer.py Pending
    conv_id: str
    sender: str
    client_id: str
    body: str
    child_id: int | None
    staff_id: int | None


_OPEN = ", ".join(f"'{state.value}'" for state in (ConversationState.QUEUED, ConversationState.ACTIVE,
                                                     ConversationState.MESSAGE))
_ACTIVE = f"'{ConversationState.ACTIVE.value}'"

# One row per message that may be written, each conversation locked once, in id order.
CHECK_AND_LOCK = text(f"""
SELECT v.i, c.last_seq
FROM unnest(CAST(:i AS INTEGER[]), CAST(:conv AS VARCHAR[]), CAST(:staff AS BOOLEAN[]),
            CAST(:who AS INTEGER[])) AS v(i, conv, staff, who)
JOIN conversations AS c ON c.id = v.conv
WHERE CASE WHEN v.staff
      THEN c.state = {_ACTIVE} AND (c.counsellor_id = v.who OR EXISTS (
           SELECT 1 FROM conversation_access AS a WHERE a.conversation_id = c.id AND a.staff_id = v.who))
      ELSE c.state IN ({_OPEN}) AND c.child_id = v.who END
ORDER BY c.id
FOR UPDATE OF c
""")  # noqa: S608 - only our state constants are formatted in

NUMBER_AND_INSERT = text("""
WITH raised AS (
  UPDATE conversations AS c SET last_seq = u.seq
  FROM unnest(CAST(:u_conv AS VARCHAR[]), CAST(:u_seq AS INTEGER[])) AS u(conv, seq)
  WHERE c.id = u.conv
)
INSERT INTO messages (conversation_id, seq, client_id, sender, body, created_at)
SELECT * FROM unnest(CAST(:conv AS VARCHAR[]), CAST(:seq AS INTEGER[]), CAST(:client AS VARCHAR[]),
                     CAST(:sender AS VARCHAR[]), CAST(:body AS TEXT[]), CAST(:at AS TIMESTAMP[]))
""")


def write(conn: Connection, batch: Sequence[Item]) -> list[repo.StoredMessage | None]:
    """Inside the caller's transaction: each message stored, or None where its sender may not
    write in that conversation now. A resent message raises IntegrityError (unique client id)."""
    if not batch:
        return []
    found = conn.execute(CHECK_AND_LOCK, {
        "i": list(range(len(batch))),
        "conv": [item.conv_id for item in batch],
        "staff": [item.staff_id is not None for item in batch],
        "who": [item.child_id if item.staff_id is None else item.staff_id for item in batch],
    }).all()
    allowed = {int(i) for i, _ in found}
    last = {batch[int(i)].conv_id: int(seq) for i, seq in found}
    now = utcnow()
    stored_at = now.astimezone(dt.UTC).replace(tzinfo=None)  # helpline.models.UTCDateTime: naive UTC
    at_ms = int(now.timestamp() * 1000)
    results: list[repo.StoredMessage | None] = []
    rows: dict[str, list[Any]] = {"conv": [], "seq": [], "client": [], "sender": [], "body": [], "at": []}
    for index, item in enumerate(batch):  # numbers in arrival order within each conversation
        if index not in allowed:
            results.append(None)
            continue
        seq = last[item.conv_id] = last[item.conv_id] + 1
        for key, value in (("conv", item.conv_id), ("seq", seq), ("client", item.client_id),
                           ("sender", item.sender), ("body", item.body), ("at", stored_at)):
            rows[key].append(value)
        results.append(repo.StoredMessage(item.conv_id, seq, item.sender, item.client_id, item.body, at_ms))
    if rows["conv"]:
        conn.execute(NUMBER_AND_INSERT, {"u_conv": list(last), "u_seq": list(last.values()), **rows})
    return results
