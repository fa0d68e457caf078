"""What a page needs to offer voice calls (ADR 0033): the lazily loaded bundle, or nothing when
the helpline runs no TURN server (HELPLINE_TURN_URL, HELPLINE_TURN_SECRET)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpline.app import Services

def voice_config(services: Services, bundle_name: str) -> dict[str, Any]:
    """`{"voice": {"src", "integrity"}}` for a page's config block, or `{}` without a TURN server."""
    settings = services.settings
    if not settings.turn_url or not settings.turn_secret:
        return {}
    bundle = services.bundles[bundle_name]
    return {"voice": {"src": bundle.src, "integrity": bundle.integrity}}
