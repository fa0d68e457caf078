"""PostgreSQL: a batch of messages in one statement, whatever its size (docs/adr/0036).

chat/writer.py hands a batch here inside one transaction. The statement checks every
sender at once (the same rules as chat/repository.py `_seq_statement`: a child in its own open
chat, a staff member who holds or was granted an active one) and locks the conversations that
pass, in the order of their ids, so two processes writing batches lock rows in one order and
cannot deadlock. The same statement numbers each conversation's messages in the batch's order
from its `last_seq`, raises `last_seq` and inserts the messages (data-modifying CTEs): one round
trip for the batch. Before, each message took its number in a round trip of its
own, so the writer's time grew with the batch and saturated near 700 messages a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

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

# One statement for the batch: check each sender, lock the conversations that pass in id order,
# number their messages in arrival order, raise each `last_seq` and insert the messages.
_BATCH_SQL = """
WITH v AS (
  SELECT * FROM unnest(CAST(:i AS INTEGER[]), CAST(:conv AS VARCHAR[]), CAST(:staff AS BOOLEAN[]),
                       CAST(:who AS INTEGER[]), CAST(:client AS VARCHAR[]), CAST(:sender AS VARCHAR[]),
                       CAST(:body AS TEXT[])) AS v(i, conv, staff, who, client, sender, body)
), allowed AS (
  SELECT v.i, v.conv, v.client, v.sender, v.body, c.last_seq
  FROM v JOIN conversations AS c ON c.id = v.conv
  WHERE CASE WHEN v.staff
        THEN c.state = {active} AND (c.counsellor_id = v.who OR EXISTS (
             SELECT 1 FROM conversation_access AS a WHERE a.conversation_id = c.id AND a.staff_id = v.who))
        ELSE c.state IN ({open}) AND c.child_id = v.who END
  ORDER BY c.id
  FOR UPDATE OF c
), numbered AS (
  SELECT i, conv, client, sender, body, last_seq + row_number() OVER (PARTITION BY conv ORDER BY i) AS seq
  FROM allowed
), raised AS (
  UPDATE conversations AS c SET last_seq = top.seq
  FROM (SELECT conv, max(seq) AS seq FROM numbered GROUP BY conv) AS top
  WHERE c.id = top.conv
), stored AS (
  INSERT INTO messages (conversation_id, seq, client_id, sender, body, created_at)
  SELECT conv, seq, client, sender, body, CAST(:at AS TIMESTAMP) FROM numbered
)
SELECT i, seq FROM numbered
"""
# Only our own state constants are formatted in.
BATCH = text(_BATCH_SQL.format(active=_ACTIVE, open=_OPEN))  # noqa: S608  # nosec B608


def write(conn: Connection, batch: Sequence[Item]) -> list[repo.StoredMessage | None]:
    """Inside the caller's transaction: each message stored, or None where its sender may not
    write in that conversation now. A resent message raises IntegrityError (unique client id)."""
    if not batch:
        return []
    now = utcnow()
    found = conn.execute(BATCH, {
        "i": list(range(len(batch))),
        "conv": [item.conv_id for item in batch],
        "staff": [item.staff_id is not None for item in batch],
        "who": [item.child_id if item.staff_id is None else item.staff_id for item in batch],
        "client": [item.client_id for item in batch],
        "sender": [item.sender for item in batch],
        "body": [item.body for item in batch],
        "at": now.astimezone(dt.UTC).replace(tzinfo=None),  # helpline.models.UTCDateTime: naive UTC
    })
    numbers = {int(index): int(seq) for index, seq in found}
    at_ms = int(now.timestamp() * 1000)
    return [repo.StoredMessage(item.conv_id, numbers[index], item.sender, item.client_id, item.body, at_ms)
            if index in numbers else None for index, item in enumerate(batch)]
