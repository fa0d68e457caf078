"""A referral's CHI category must be one the taxonomy knows (issue 19): statistics count referrals by
category, and a made-up code would count nowhere. The console sends sub-codes (``violence.physical``);
a public report's category is ``illegal_content.<kind>`` (referral/reports.py), set by the server."""

from __future__ import annotations

from helpline import taxonomy
from helpline.i18n import N_
from referral.service import ReferralError


def check(code: str) -> str:
    known = taxonomy.load()
    if code not in known.subcategories and code not in known.categories:
        raise ReferralError(400, N_("There is no category %(code)s in the taxonomy."), {"code": code[:64]})
    return code
