"""What a page needs to offer voice calls (ADR 0033): the lazily loaded bundle, or nothing when
the helpline runs no TURN server (HELPLINE_TURN_URL, HELPLINE_TURN_SECRET)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import VoiceCall

if TYPE_CHECKING:
    from helpline.app import Services

def voice_config(services: Services, bundle_name: str) -> dict[str, Any]:
    """`{"voice": {"src", "integrity"}}` for a page's config block, or `{}` without a TURN server."""
    settings = services.settings
    if not settings.turn_url or not settings.turn_secret:
        return {}
    bundle = services.bundles[bundle_name]
    return {"voice": {"src": bundle.src, "integrity": bundle.integrity}}


async def calls_of(db: AsyncSession, conversation_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The voice calls of these chats, oldest first, for the case timeline: channel voice, length only."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not conversation_ids:
        return found
    rows = await db.execute(select(VoiceCall.conversation_id, VoiceCall.seconds, VoiceCall.ended_at)
                            .where(VoiceCall.conversation_id.in_(conversation_ids)).order_by(VoiceCall.ended_at))
    for conv, seconds, ended in rows.all():
        found.setdefault(conv, []).append({"channel": "voice", "seconds": seconds, "ended_at": ended.isoformat()})
    return found
