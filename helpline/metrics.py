"""What operators see of the service: Prometheus metrics, and the readiness check.

Every series counts or times the service, never a person: no label carries a conversation id,
a child or staff token, a municipality, a message size or anything else that could pick out one
chat (tests/integration/test_operator_metrics.py scrapes during a chat and checks). Labels are
only the socket's kind (child/staff) and a protocol error's code, each from a short fixed list.

`/metrics` is served on the app's own port and only with `Authorization: Bearer
HELPLINE_METRICS_TOKEN` (unset: 404); the proxy refuses it from outside as well
(docs/adr/0032-operator-endpoints.md). Each process answers for itself; `helpline serve
--workers N` gives its workers one folder in which each keeps its values
(prometheus_client's multiprocess mode), so any worker answers for all of them.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from helpline.app import Services

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
READY_TIMEOUT = 2.0
SOCKET_KINDS = ("child", "staff")
_CODE = re.compile(r"[a-z_]{1,24}")
# Waits run from seconds to the better part of an hour; deliveries from a millisecond to seconds.
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
DELIVERY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500)

queue_waiting = Gauge("helpline_queue_waiting", "Chats waiting for a counsellor (as this process last read)",
                      multiprocess_mode="max")
queue_wait = Histogram("helpline_queue_wait_seconds", "How long a chat waited before a counsellor took it",
                       buckets=WAIT_BUCKETS)
store_time = Histogram("helpline_message_store_seconds",
                       "A message frame received until it is stored and acknowledged", buckets=DELIVERY_BUCKETS)
delivery_time = Histogram("helpline_message_delivery_seconds",
                          "A message stored until it is written to the other side's socket", buckets=DELIVERY_BUCKETS)
open_sockets = Gauge("helpline_open_sockets", "Open WebSockets of this process, by kind", ["kind"],
                     multiprocess_mode="livesum")
errors = Counter("helpline_errors_total", "Error frames answered to clients, by protocol error code", ["code"])
writer_batch = Histogram("helpline_writer_batch_messages", "Messages in each transaction of the message writer",
                         buckets=BATCH_BUCKETS)

for _kind in SOCKET_KINDS:  # both series exist from the start, at zero
    open_sockets.labels(_kind)


def socket_opened(is_child: bool) -> None:
    open_sockets.labels(SOCKET_KINDS[0] if is_child else SOCKET_KINDS[1]).inc()


def socket_closed(is_child: bool) -> None:
    open_sockets.labels(SOCKET_KINDS[0] if is_child else SOCKET_KINDS[1]).dec()


def error_answered(code: str) -> None:
    """Codes are the protocol's short fixed words (docs/protocol.md); anything else counts as other."""
    errors.labels(code if _CODE.fullmatch(code) else "other").inc()


def delivered(stored_at_ms: int) -> None:
    """A message stored at ``stored_at_ms`` (wall clock, possibly on another host) was written out."""
    delivery_time.observe(max(0.0, time.time() - stored_at_ms / 1000))


def prepare_workers(data_dir: Path) -> None:
    """Before `serve` starts several workers: one fresh folder where each keeps its values."""
    folder = data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROCESS_ENV] = str(folder)


def process_stopped() -> None:
    """A worker leaving: its open-socket gauge no longer counts in the sum."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def exposition() -> bytes:
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


async def metrics_endpoint(request: Request) -> Response:
    services: Services = request.app.state.services
    token = str(services.settings.metrics_token)
    given = request.headers.get("authorization", "")
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse("Unauthorized", status_code=401, headers={"www-authenticate": "Bearer"})
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})


async def _database_answers(services: Services) -> None:
    async with services.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def ready(request: Request) -> Response:
    """200 when the database answers and the broker is connected; else 503 naming what is not."""
    services: Services = request.app.state.services
    missing = []
    try:
        await asyncio.wait_for(_database_answers(services), READY_TIMEOUT)
    except Exception:  # any failure means not ready; the answer says which part
        missing.append("database")
    if not services.broker.healthy:
        missing.append("broker")
    if missing:
        return PlainTextResponse("not ready: " + ", ".join(missing), status_code=503,
                                 headers={"cache-control": "no-store", "retry-after": "5"})
    return PlainTextResponse("ready", headers={"cache-control": "no-store"})


# Deliberately outside the OpenAPI document: an operator's scrape behind a token, not the API.
metrics_endpoint.helpline_undocumented = True  # type: ignore[attr-defined]

routes = [Route("/readyz", ready, methods=["GET"])]
operator_routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
