"""The sign-in throttle's numbers are the same in the code, the threat model and ADR 0006."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpline.security import devices, throttle

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["threat-model.md", "adr/0006-sign-in-throttle-and-totp-window.md"]


def _text(page: str) -> str:
    return " ".join((DOCS / page).read_text(encoding="utf-8").split())


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_give_the_codes_lock_numbers(page: str) -> None:
    text = _text(page)
    found = re.search(r"[Tt]he first (\d+) failures are free; each later one locks the \w+ for "
                      r"((?:\d+, )+)then (\d+) minutes \(the cap\)", text)
    assert found, f"{page} does not state the lock schedule"
    free, cap = int(found.group(1)), int(found.group(3))
    steps = [int(n) for n in found.group(2).rstrip(", ").split(", ")]
    assert free == throttle.FREE
    assert cap == throttle.MAX_LOCK_MINUTES
    schedule = [throttle.lock_minutes(throttle.FREE + i) for i in range(1, len(steps) + 2)]
    assert schedule == [*steps, cap], schedule
    assert throttle.lock_minutes(throttle.FREE + len(steps) + 5) == cap
    assert throttle.lock_minutes(throttle.FREE) == 0


def test_the_threat_model_gives_the_codes_other_numbers() -> None:
    text = _text("threat-model.md")
    kept = re.search(r"a bucket is forgotten (\d+) h after its last failure", text)
    assert kept and int(kept.group(1)) * 3600 == throttle.KEEP.total_seconds()
    lasts = re.search(r"\*\*device cookie\*\* \(HttpOnly, SameSite=Strict, (\d+) days\)", text)
    assert lasts and int(lasts.group(1)) == devices.MAX_AGE_DAYS
    adr = _text(PAGES[1])
    assert f"`{devices.COOKIE_NAME}` ({devices.MAX_AGE_DAYS} days" in adr
    assert f"Rows expire {int(throttle.KEEP.total_seconds() // 3600)} h after the last failure" in adr
