"""Referral queries (SQLAlchemy 2 async): the service asks here and runs no query itself.

Who may see a referral is `helpline.security.access`; the listing below takes its SQL condition,
so authorisation stays in the query.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import Conversation, ConversationAccess


async def conversation(db: AsyncSession, conversation_id: str) -> Conversation | None:
    return await db.get(Conversation, conversation_id)


async def is_granted(db: AsyncSession, conversation_id: str, staff_id: int) -> bool:
    """The staff member was granted the conversation (a joined supervisor; an earlier chat shared)."""
    query = select(ConversationAccess.id).where(ConversationAccess.conversation_id == conversation_id,
                                                ConversationAccess.staff_id == staff_id)
    return (await db.execute(query)).first() is not None
