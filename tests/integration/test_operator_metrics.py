"""Operators see the service without seeing children (issue 21, acceptance 3; ADR 0032).

A scrape of /metrics in the middle of a real chat finds every series the issue names, and finds no
conversation id, token, pre-chat answer or anything else derived from a child; /metrics needs the
operator's token; /readyz says whether the database and the broker answer."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.chat_client import ChildClient, FrameError
from tests.integration.test_chat_e2e import PRECHAT, eventually, open_chat
from tests.reliability.tcp_proxy import TcpProxy
from tests.support import ServerProcess, Stack, add_user, destroy_stack, free_port, make_stack

TOKEN = "metrics-token-for-the-test"  # noqa: S105 - a test's own value
SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Every label any series may carry, and the values each may take.
ALLOWED_LABELS: dict[str, re.Pattern[str]] = {
    "kind": re.compile(r"child|staff"), "code": re.compile(r"[a-z_]{1,24}"), "le": re.compile(r"[0-9.e+]+|\+Inf"),
    "quantile": re.compile(r"[0-9.]+"), "generation": re.compile(r"[0-2]"), "implementation": re.compile(r"\w+"),
    "major": re.compile(r"\d+"), "minor": re.compile(r"\d+"), "patchlevel": re.compile(r"\d+"),
    "version": re.compile(r"[\d.]+"),
}


def scrape(server: ServerProcess, token: str | None = TOKEN) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + "/metrics", headers=headers, timeout=5)


def samples(text: str) -> dict[str, float]:
    """`name{labels}` → value for every sample line of the exposition text."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = SERIES.match(line)
            assert match, f"not a sample line: {line!r}"
            found[f"{match.group(1)}{{{match.group(2) or ''}}}"] = float(match.group(3))
    return found


def value(found: dict[str, float], name: str, labels: str = "") -> float:
    return found.get(f"{name}{{{labels}}}", 0.0)


def assert_nothing_of_the_child(text: str, needles: list[str]) -> None:
    for needle in needles:
        assert needle and needle not in text, f"{needle!r} appears in /metrics"
    for line in text.splitlines():
        match = SERIES.match(line) if not line.startswith("#") else None
        if match and match.group(2):
            for name, label_value in LABEL.findall(match.group(2)):
                assert name in ALLOWED_LABELS, f"unexpected label {name} in {line}"
                assert ALLOWED_LABELS[name].fullmatch(label_value), f"unexpected value in {line}"


@pytest.fixture
def metrics_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server(HELPLINE_METRICS_TOKEN=TOKEN)


async def test_a_scrape_during_a_chat_finds_the_series_and_nothing_of_the_child(
        stack: Stack, metrics_server: ServerProcess) -> None:
    server = metrics_server
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    await eventually(lambda: child.conv_key is not None)
    for i in range(5):
        await child.say(f"mesazh sekret {i}")
        await staff.say(conv, f"përgjigje sekrete {i}")
    await eventually(lambda: len(child.received) >= 5 and len(staff.received.get(conv, {})) >= 5)
    with pytest.raises(FrameError):
        await child.socket.request({"type": "send", "conv": "no-such-conversation", "body": "x"})  # type: ignore[union-attr]

    answer = scrape(server)  # both sockets still open: the chat is going on
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    assert value(found, "helpline_open_sockets", 'kind="child"') == 1
    assert value(found, "helpline_open_sockets", 'kind="staff"') == 1
    assert "helpline_queue_waiting{}" in found
    assert value(found, "helpline_queue_wait_seconds_count") >= 1
    assert value(found, "helpline_message_store_seconds_count") >= 10
    assert value(found, "helpline_message_delivery_seconds_count") >= 10
    assert value(found, "helpline_message_delivery_seconds_bucket", 'le="+Inf"') >= 10
    assert value(found, "helpline_writer_batch_messages_count") >= 1
    assert value(found, "helpline_writer_batch_messages_sum") >= 10
    assert sum(v for k, v in found.items() if k.startswith("helpline_errors_total{")) >= 1

    needles = [conv, child.token.hex(), child.resume_code, child.resume_code.replace("-", ""), child.secret.hex(),
               child.public_key.hex(), staff.participant, "ana", "Ana", PRECHAT["municipality"], "Shkod",
               "sekret", "127.0.0.1"]
    assert_nothing_of_the_child(answer.text, needles)
    assert_nothing_of_the_child(httpx.get(server.url + "/readyz", timeout=5).text, needles)

    await child.close()
    await staff.close()
    await eventually(lambda: value(samples(scrape(server).text), "helpline_open_sockets", 'kind="child"') == 0)


def test_metrics_need_the_token_and_readiness_answers(stack: Stack, metrics_server: ServerProcess) -> None:
    assert scrape(metrics_server, token=None).status_code == 401
    assert scrape(metrics_server, token="wrong").status_code == 401
    ready = httpx.get(metrics_server.url + "/readyz", timeout=5)
    assert (ready.status_code, ready.text) == (200, "ready")
    document = httpx.get(metrics_server.url + "/openapi.json", timeout=5).json()
    assert "/readyz" in document["paths"] and "/metrics" not in document["paths"]  # deliberately outside


def test_without_a_token_there_are_no_metrics(stack: Stack, server: ServerProcess) -> None:
    assert scrape(server).status_code == 404
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


async def test_readiness_names_the_part_that_does_not_answer(tmp_path: Path) -> None:
    stack = make_stack("postgres", tmp_path)  # only PostgreSQL and Redis can be away: no SQLite run
    database, broker = TcpProxy(free_port(), "127.0.0.1", 5432), TcpProxy(free_port(), "127.0.0.1", 6379)
    await database.start()
    await broker.start()
    try:
        server = ServerProcess(stack, extra_env={
            "HELPLINE_DATABASE_URL": stack.database_url.replace(":5432/", f":{database.port}/"),
            "HELPLINE_REDIS_URL": f"redis://127.0.0.1:{broker.port}/0"})
        stack.servers.append(await asyncio.to_thread(server.start))  # the proxies run on this loop
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
            assert (await http.get("/readyz")).text == "ready"
            await broker.cut()
            assert await readiness(http, lambda answer: answer.status_code == 503) == "not ready: broker"
            assert (await http.get("/healthz")).status_code == 200  # alive all the same
            await broker.restore()
            await database.cut()
            assert "database" in await readiness(http, lambda answer: "database" in answer.text)
            await database.restore()
            assert await readiness(http, lambda answer: answer.status_code == 200, timeout=20) == "ready"
    finally:
        await database.stop()
        await broker.stop()
        destroy_stack(stack)


async def readiness(http: httpx.AsyncClient, until: Callable[[httpx.Response], bool], timeout: float = 10) -> str:
    """The /readyz answer once ``until`` holds for it (or the last one)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await http.get("/readyz")
        if until(answer) or time.monotonic() > deadline:
            return answer.text
        await asyncio.sleep(0.1)


async def test_workers_of_one_serve_answer_for_all_of_them(tmp_path: Path) -> None:
    """`helpline serve --workers 2`: whichever worker a scrape reaches answers for both."""
    stack = make_stack("postgres", tmp_path)  # several workers need Redis: no SQLite run
    try:
        port = free_port()
        server = ServerProcess(stack, port, extra_env={"HELPLINE_METRICS_TOKEN": TOKEN}, command=[
            sys.executable, "-m", "helpline.cli", "serve", "--port", str(port), "--workers", "2"])
        stack.servers.append(await asyncio.to_thread(server.start))
        children = [ChildClient(server.url, stack.org_public_key) for _ in range(6)]
        for child in children:
            await child.connect()
            await child.start(PRECHAT)
        for _ in range(6):  # each scrape may reach either worker
            found = samples((await asyncio.to_thread(scrape, server)).text)
            assert value(found, "helpline_open_sockets", 'kind="child"') == 6
        assert value(found, "helpline_queue_waiting") == 6
        for child in children:
            await child.close()
    finally:
        destroy_stack(stack)
