"""What a page needs to offer voice calls (ADR 0033): the lazily loaded bundle, or nothing when
the helpline runs no TURN server (HELPLINE_TURN_URL, HELPLINE_TURN_SECRET)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from typing import TYPE_CHECKING, Any

from helpline import bundle
from helpline.i18n import LOCALES, js_strings

if TYPE_CHECKING:
    from helpline.app import Services


def locale_bundles(org_public_key: bytes) -> dict[str, bundle.Bundle]:
    """The child's voice bundle once per language, its strings in front ("voice_child-sq", …): the
    child page's first load carries none of them (tests/browser/test_child_light.py)."""
    base = bundle.build("voice_child", org_public_key)
    made = {}
    for locale in LOCALES:
        strings = json.dumps(js_strings("voice_child", locale), ensure_ascii=False, sort_keys=True)
        body = f"var HELPLINE_VOICE_STRINGS={strings};\n".encode() + base.body
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode("ascii")
        name = f"voice_child-{locale}"
        made[name] = bundle.Bundle(name, body, gzip.compress(body, compresslevel=9, mtime=0), digest)
    return made


def voice_config(services: Services, bundle_name: str) -> dict[str, Any]:
    """`{"voice": {"src", "integrity"}}` for a page's config block, or `{}` without a TURN server."""
    settings = services.settings
    if not settings.turn_url or not settings.turn_secret:
        return {}
    bundle = services.bundles[bundle_name]
    return {"voice": {"src": bundle.src, "integrity": bundle.integrity}}
