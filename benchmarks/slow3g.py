"""Slow 3G: how long from opening the child page to the first message sent, with a counsellor free.

    python benchmarks/slow3g.py --runs 5
    python benchmarks/slow3g.py --runs 5 --cpu-slowdown 4     # a cheap phone's CPU as well

Starts its own `helpline serve` on a fresh SQLite installation (tests.support.make_stack), signs in
one PyNaCl counsellor (tests/chat_client.py StaffClient) who accepts every chat as soon as it is queued,
and drives Debian's Chromium with Playwright under DevTools' "Slow 3G" profile
(Network.emulateNetworkConditions: 2,000 ms latency, 50,000 bytes/s down and up; the values of
DevTools' preset). Every run uses a fresh browser context, so nothing is cached.

The child taps "Start a chat", then "Start the chat" with no answers (the two taps of the design),
types one short message and taps Send. Timed from just before the navigation starts to the
server's acknowledgement of that message (the page shows "Sent"); also reported: when the
counsellor decrypted it. Prints JSON and one Markdown table row for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.chat_client import StaffClient  # noqa: E402
from tests.support import ServerProcess, add_user, destroy_stack, make_stack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
TEXT = "Përshëndetje, kam nevojë të flas me dikë."


class Counsellor:
    """A counsellor on its own event loop thread who takes every queued chat at once."""

    def __init__(self, server: ServerProcess, username: str, password: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = StaffClient(server.url, username, password)
        self.received_at: dict[str, float] = {}
        self.watchers: list[asyncio.Task[None]] = []
        self.run(self.client.sign_in())
        self.run(self.client.connect())
        self.task = asyncio.run_coroutine_threadsafe(self._accept_all(), self.loop)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _accept_all(self) -> None:
        taken: set[str] = set()
        assert self.client.socket is not None
        while True:
            try:
                queue = await self.client.socket.next_event("queue", timeout=3600)
            except TimeoutError:
                continue
            for item in queue.get("items", []):
                conv = item["conv"]
                if conv not in taken:
                    taken.add(conv)
                    await self.client.accept(conv)
                    self.watchers.append(asyncio.create_task(self._watch(conv)))

    async def _watch(self, conv: str) -> None:
        """Waits for the child's key, then for the message (fetched again if it came before the key)."""
        await self.client.wait_for_key(conv, timeout=60)
        deadline = time.monotonic() + 60
        while conv not in self.received_at and time.monotonic() < deadline:
            if any(m.text == TEXT for m in self.client.received.get(conv, {}).values()):
                self.received_at[conv] = time.monotonic()
                return
            await self.client.sync(conv)
            await asyncio.sleep(0.05)

    def first_received_after(self, start: float) -> float | None:
        later = [t for t in self.received_at.values() if t >= start]
        return min(later) if later else None

    def close(self) -> None:
        self.task.cancel()
        for watcher in self.watchers:
            self.loop.call_soon_threadsafe(watcher.cancel)
        self.run(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Timeline:
    """When each step of the first message happened, from Chromium's Network domain (seconds after the
    page's request was sent): where the time goes, so the next cut is chosen by measurement."""

    def __init__(self, cdp: Any) -> None:
        self.t0: float | None = None
        self.marks: dict[str, float] = {}
        self.frames: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketCreated", lambda e: self._mark("socket_created", None))
        cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: self._mark("socket_open", e["timestamp"]))
        cdp.on("Network.webSocketFrameSent", lambda e: self._frame("sent", e))
        cdp.on("Network.webSocketFrameReceived", lambda e: self._frame("received", e))
        self.kinds: dict[str, str] = {}

    def _mark(self, name: str, at: float | None) -> None:
        if at is None:
            at = self.last
        if self.t0 is not None and name not in self.marks:
            self.marks[name] = round(at - self.t0, 3)

    def _request(self, event: dict[str, Any]) -> None:
        self.last = event["timestamp"]
        self.kinds[event["requestId"]] = str(event.get("type"))
        if self.t0 is None and event.get("type") == "Document":
            self.t0 = event["timestamp"]
        self._mark(f"{str(event.get('type')).lower()}_requested", event["timestamp"])

    def _response(self, event: dict[str, Any]) -> None:
        self.last = event["timestamp"]
        self._mark(f"{self.kinds.get(event['requestId'], '?').lower()}_first_byte", event["timestamp"])

    def _finished(self, event: dict[str, Any]) -> None:
        self.last = event["timestamp"]
        self._mark(f"{self.kinds.get(event['requestId'], '?').lower()}_done", event["timestamp"])

    def _frame(self, way: str, event: dict[str, Any]) -> None:
        self.last = event["timestamp"]
        try:
            frame = json.loads(event["response"]["payloadData"])
        except (ValueError, KeyError):
            return
        if way == "sent" and frame.get("type") in ("start", "send"):
            self.frames[frame["id"]] = frame["type"]
            self._mark(f"{frame['type']}_sent", event["timestamp"])
        elif way == "received" and frame.get("id") in self.frames:
            self._mark(f"{self.frames[frame['id']]}_{frame.get('type')}", event["timestamp"])


def one_run(browser: Any, url: str, counsellor: Counsellor, cpu_slowdown: float) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    timeline = Timeline(cdp)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    if cpu_slowdown > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
    try:
        start = time.monotonic()
        page.goto(url + "/", timeout=60_000)
        loaded = time.monotonic()
        page.click("#start-chat")
        page.click("#prechat-submit")
        page.fill("#message-input", TEXT)
        page.click("#send-message")
        page.locator("#messages .msg.me .meta").last.wait_for(state="visible", timeout=60_000)
        page.wait_for_function("() => { const m = document.querySelectorAll('#messages .msg.me .meta');"
                               " return m.length && !m[m.length - 1].textContent.includes('…'); }", timeout=60_000)
        sent = time.monotonic()
        deadline = time.monotonic() + 30
        received = counsellor.first_received_after(start)
        while received is None and time.monotonic() < deadline:
            time.sleep(0.02)
            received = counsellor.first_received_after(start)
    finally:
        context.close()
    return {"page_loaded_s": loaded - start, "first_message_sent_s": sent - start,
            "counsellor_read_s": (received - start) if received else float("nan"), "timeline": timeline.marks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-slowdown", type=float, default=1.0, help="DevTools CPU throttling rate (4 = phone)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="helpline-slow3g-"))
    stack = make_stack("sqlite", tmp)
    server = ServerProcess(stack).start()
    stack.servers.append(server)
    runs: list[dict[str, Any]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for n in range(args.runs):
                # A free counsellor for each run: one who kept the earlier chats would reach the limit of
                # chats at once, and an ended chat waits for its wrap-up before she may take another.
                counsellor = Counsellor(server, f"bench{n}", add_user(stack, f"bench{n}"))
                try:
                    runs.append(one_run(browser, server.url, counsellor, args.cpu_slowdown))
                finally:
                    counsellor.close()
            browser.close()
    finally:
        destroy_stack(stack)
    sent = [r["first_message_sent_s"] for r in runs]
    result = {
        "profile": SLOW_3G, "cpu_slowdown": args.cpu_slowdown, "runs": runs,
        "first_message_sent_median_s": statistics.median(sent), "first_message_sent_max_s": max(sent),
        "page_loaded_median_s": statistics.median(r["page_loaded_s"] for r in runs),
        "counsellor_read_median_s": statistics.median(r["counsellor_read_s"] for r in runs),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
                    "platform": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "budget_s": 8.0, "met": max(sent) <= 8.0,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    command = "python benchmarks/slow3g.py --runs " + str(args.runs) + (
        f" --cpu-slowdown {args.cpu_slowdown:g}" if args.cpu_slowdown > 1 else "")
    print(f"| Slow 3G, CPU ×{args.cpu_slowdown:g} | {args.runs} | {result['page_loaded_median_s']:.2f} | "
          f"{result['first_message_sent_median_s']:.2f} / {result['first_message_sent_max_s']:.2f} | "
          f"{result['counsellor_read_median_s']:.2f} | {'met' if result['met'] else 'not met'} | `{command}` |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
