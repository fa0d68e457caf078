"""The garbage collector under many connections (docs/adr/0016-garbage-collector.md).

CPython's full collection walks every tracked object. With 10,000 children waiting, a process
holds well over half a million, and each full collection stopped the event loop for 0.3-0.7 s,
every few seconds while a wave of children connected: the worst of the delivery latency's tail
(docs/performance.md). Reference counting frees almost everything here; the cyclic collector is
only for cycles (tracebacks, some asyncio internals), and those can wait.

So, once the app is built: collect, then freeze what start-up made (modules, SQLAlchemy's
metadata and statement caches, templates, catalogs: never garbage, never scanned again), and
raise the thresholds so that young collections stay short and full ones become rare (about
every 50 million net allocations, minutes under load) instead of following the heap's growth.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between young collections (CPython's default: 700)
MIDDLE = 50  # young collections between middle ones (default: 10)
OLD = 50  # middle collections before a full one may run (default: 10; it also waits for 25 % growth)


def tune() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
