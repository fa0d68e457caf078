"""Server-side delivery timings for the load driver: times only, never content or identities.

With HELPLINE_TIMING_FILE set, each process stamps the moment it starts handling a client frame
(`received`), carries that stamp in the broker notice the frame causes, and when the notice has
been written to the other side's socket keeps the difference under a kind ("msg": a message
from frame in to frame out, persistence included; "assigned": a counsellor's accept reaching
the child). Each duration is kept with its start on the monotonic clock, which every process on
one machine shares, so the driver can tell which fell inside its own measuring window. The
garbage collector's pauses are kept the same way, by generation ("gc0", "gc1", "gc2"). At
shutdown the process writes them to `<file>.<pid>.json`, which benchmarks/load.py reads. Unset
(the default) nothing is stamped and nothing kept.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections import defaultdict
from contextvars import ContextVar
from pathlib import Path
from typing import Any

received: ContextVar[float | None] = ContextVar("helpline_frame_received", default=None)

_path: Path | None = None
_kept: dict[str, list[tuple[float, float]]] = defaultdict(list)


_gc_started = 0.0


def configure(path: str) -> None:
    global _path
    _path = Path(path) if path else None
    if _path is not None and _gc_probe not in gc.callbacks:
        gc.callbacks.append(_gc_probe)


def _gc_probe(phase: str, info: dict[str, Any]) -> None:
    """Each collection's pause (the event loop stops for all of it), by generation."""
    global _gc_started
    if phase == "start":
        _gc_started = time.monotonic()
    else:
        _kept[f"gc{info['generation']}"].append((_gc_started, time.monotonic() - _gc_started))


def enabled() -> bool:
    return _path is not None


def frame_received() -> None:
    if _path is not None:
        received.set(time.monotonic())


def stamp(notice: dict[str, Any]) -> dict[str, Any]:
    """Adds the current frame's arrival time to a notice (a no-op when timing is off)."""
    started = received.get()
    if started is not None:
        notice["t0"] = started
    return notice


def written(kind: str, notice: dict[str, Any]) -> None:
    """The notice's frame has been written to a socket: keep when it arrived and how long it took."""
    started = notice.get("t0")
    if isinstance(started, float):
        _kept[kind].append((started, time.monotonic() - started))


def dump() -> None:
    if _path is None or not _kept:
        return
    target = _path.with_name(f"{_path.name}.{os.getpid()}.json")
    target.write_text(json.dumps({kind: values for kind, values in _kept.items()}), encoding="utf-8")
