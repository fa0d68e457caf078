"""The labels of the statistics' rows: each dimension's codes in display order, with English msgids.

Fixed lists live here; the CHI categories and the other case-record lists come from the taxonomy.
"""

from __future__ import annotations

from helpline import taxonomy
from helpline.i18n import N_
from stats.rollups import ACK_EDGES, DURATION_EDGES, NONE, OPEN_AGE_EDGES, UNKNOWN, WAIT_EDGES

HOURS = {str(h): f"{h:02d}:00" for h in range(24)}
WEEKDAYS = {"0": N_("Monday"), "1": N_("Tuesday"), "2": N_("Wednesday"), "3": N_("Thursday"),
            "4": N_("Friday"), "5": N_("Saturday"), "6": N_("Sunday")}
FIXED: dict[str, dict[str, str]] = {
    "queue": {"answered": N_("Answered"), "abandoned": N_("Left the queue before an answer"),
              "waiting": N_("Still waiting")},
    "blocked": {"yes": N_("Ended with a block"), "no": N_("Not blocked")},
    "returning": {"first": N_("First contact"), "returning": N_("Returning")},
    "feedback": {"yes": N_("Helped"), "somewhat": N_("Helped a little"), "no": N_("Did not help"),
                 NONE: N_("No answer")},
    "urgency": {"0": N_("Normal"), "1": N_("Urgent"), "2": N_("Emergency")},
    "agency_kind": {"cpu": N_("Child protection unit"), "police": N_("Police"),
                    "police_cyber": N_("Police cyber-crime unit"), "state_agency": N_("State agency"),
                    "helpline": N_("Helpline")},
    "r_urgency": {"emergency": N_("Emergency"), "urgent": N_("Urgent"), "routine": N_("Routine")},
    "ack": {"in_time": N_("Acknowledged in time"), "late": N_("Acknowledged late"),
            "none": N_("Not acknowledged")},
    "escalated": {"yes": N_("Escalated"), "no": N_("Not escalated")},
    "state": {"open": N_("Open"), "closed": N_("Closed")},
    "r_outcome": {"child_protected": N_("Child protected"), "family_supported": N_("Family supported"),
                  "services_provided": N_("Services provided"), "investigation_opened": N_("Investigation opened"),
                  "referred_onward": N_("Referred onward"), "no_action_needed": N_("No action needed"),
                  "child_not_found": N_("Child not found"), "other": N_("Other"), NONE: N_("Not closed yet")},
}
SPECIAL = {UNKNOWN: N_("Not known"), NONE: N_("Not recorded")}
TAXONOMY_LISTS = {"age_band": "age_bands", "gender": "genders", "risk": "risk_levels", "outcome": "outcomes",
                  "contact_type": "contact_types", "channel": "channels", "contact_by": "contact_by"}


def _taxonomy_labels(name: str) -> dict[str, str]:
    data = taxonomy.load().data
    if name == "category":
        return {c["code"]: c["label"] for c in data["categories"]}
    if name == "secondary":  # the sub-codes the form records (and the top-level codes older records hold)
        return {code: label for c in data["categories"]
                for code, label in [(c["code"], c["label"]), *((s["code"], s["label"]) for s in c["sub"])]}
    if name in TAXONOMY_LISTS:
        return {i["code"]: i["label"] for i in data[TAXONOMY_LISTS[name]]}
    return {}


def order_and_labels(name: str) -> dict[str, str]:
    """Codes in display order with their English labels (msgids)."""
    if name == "hour":
        return dict(HOURS)
    if name == "weekday":
        return dict(WEEKDAYS)
    if name in FIXED:
        return dict(FIXED[name])
    if name in ("wait", "duration", "call_duration", "ack_hours", "open_age"):
        edges = {"wait": WAIT_EDGES, "duration": DURATION_EDGES, "call_duration": DURATION_EDGES,
                 "ack_hours": ACK_EDGES, "open_age": OPEN_AGE_EDGES}[name]
        return {str(e): str(e) for e in (*edges, edges[-1] * 10)}
    return _taxonomy_labels(name)
