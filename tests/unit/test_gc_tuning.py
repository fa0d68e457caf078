"""helpline/gc_tuning.py (ADR 0016): start-up's objects are frozen, full collections are rare."""

from __future__ import annotations

import gc

from helpline import gc_tuning


def test_tune_freezes_what_exists_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()  # another test may have started the app in this process already
    try:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)  # CPython's defaults
        gc_tuning.tune()
        assert gc.get_freeze_count() > 10_000  # this process's modules, the test session's objects
        assert gc.get_threshold() == (gc_tuning.YOUNG, gc_tuning.MIDDLE, gc_tuning.OLD)
        assert gc_tuning.YOUNG > 700 and gc_tuning.MIDDLE >= 10 and gc_tuning.OLD >= 10
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
