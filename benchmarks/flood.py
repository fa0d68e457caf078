"""The flood run of benchmarks/load.py (`--flood` with no number): an attacker on every core against
one real child in Chromium, then the child's solving time on a phone-speed CPU.

    python benchmarks/load.py --flood
    python benchmarks/load.py --flood --attack-seconds 60 --child-after 20

It starts its own `helpline serve` on a fresh SQLite installation with the default flood settings
(HELPLINE_POW_*, HELPLINE_NEW_CHATS_PER_MINUTE; docs/adr/0020-pressure-priced-proof-of-work.md).
The attacker is one process per core (os.cpu_count()), each opening a fresh socket and a fresh
identity per chat, solving whatever proof of work it is asked with hashlib (from a copied SHA-512
state: faster than the pages can) as fast as it can, for --attack-seconds. Each solve's CPU time
(thread_time) and difficulty are kept, so the cost per queued chat is given at each difficulty.

After --child-after seconds of attack (the price is at its highest by then), a real child opens
the page in headless Chromium (Playwright), taps "Start a chat" and "Start the chat", and the run
times from the navigation to the server's `ack` of the start (the chat is in the queue), seen on
the page's own WebSocket; it also counts the puzzles the page solved. Then, with the attack over,
a fresh page under DevTools CPU throttling ×4 (Emulation.setCPUThrottlingRate, a cheap phone)
solves challenges at each difficulty with the same slices as child.js (tweetnacl's nacl.hash,
2 000 tries a slice), and the run reports the mean and slowest time per difficulty.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpline.security import pow  # noqa: E402
from helpline.settings import SETTINGS  # noqa: E402
from tests.chat_client import ChildClient, FrameError  # noqa: E402
from tests.support import ServerProcess, destroy_stack, make_stack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PRECHAT = {"who": "child"}

# The pages' solver (helpline/static/js/wire.js solveProof), run on a given seed: the browser's
# SHA-512 in batches of 256 where the page is a secure context (https, or 127.0.0.1 here), else
# tweetnacl in slices of 2 000; resolves with the milliseconds it took.
PAGE_SOLVER = """([seed, bits]) => new Promise((resolve) => {
  const began = performance.now();
  const prefix = seed + ':';
  let nonce = 0;
  function zeroBits(digest) {
    for (let i = 0, count = 0; i < digest.length; i++, count += 8) {
      if (digest[i]) return count + Math.clz32(digest[i]) - 24;
    }
    return 512;
  }
  function bytesOf(text) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  const done = () => resolve(performance.now() - began);
  let subtle = window.crypto && window.crypto.subtle;
  function sliceNative() {
    const tries = [];
    for (let k = 0; k < 256; k++) tries.push(subtle.digest('SHA-512', bytesOf(prefix + (nonce + k))));
    Promise.all(tries).then((digests) => {
      for (let k = 0; k < digests.length; k++) if (zeroBits(new Uint8Array(digests[k])) >= bits) return done();
      nonce += 256;
      sliceNative();
    }, () => { subtle = null; slice(); });
  }
  function slice() {
    for (const end = nonce + 2000; nonce < end; nonce++) {
      if (zeroBits(window.nacl.hash(bytesOf(prefix + nonce))) >= bits) return done();
    }
    setTimeout(slice, 0);
  }
  if (subtle && subtle.digest) sliceNative(); else slice();
})"""


# The same hashing as PAGE_SOLVER for `ms` milliseconds, without stopping at an answer: tries per
# second. A solve's time is luck (its tries are geometric, mean 2^bits); the rate is not.
PAGE_RATE = """(ms) => new Promise((resolve) => {
  const began = performance.now();
  let nonce = 0;
  function bytesOf(text) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  const subtle = window.crypto && window.crypto.subtle;
  const seed = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:';
  function more() {
    if (performance.now() - began >= ms) return resolve(nonce * 1000 / (performance.now() - began));
    if (subtle && subtle.digest) {
      const tries = [];
      for (let k = 0; k < 256; k++) tries.push(subtle.digest('SHA-512', bytesOf(seed + (nonce + k))));
      Promise.all(tries).then(() => { nonce += 256; more(); });
    } else {
      for (const end = nonce + 2000; nonce < end; nonce++) window.nacl.hash(bytesOf(seed + nonce));
      setTimeout(more, 0);
    }
  }
  more();
})"""


# -- the attacker: one process per core --------------------------------------------------------

def _attacker(url: str, org_key: bytes, seconds: float, out: Any) -> None:
    out.put(asyncio.run(_attack(url, org_key, seconds)))


async def _attack(url: str, org_key: bytes, seconds: float) -> list[tuple[int, float, int, bool]]:
    """(bits, CPU seconds solving, tries, queued) for every chat this process tried."""
    done: list[tuple[int, float, int, bool]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        child = ChildClient(url, org_key, solve_pow=False)
        try:
            await child.connect()
            frame: dict[str, Any] = {"type": "start", "token": _b64(child.token), "public_key": _b64(child.public_key),
                                     "self_key": _self_key(child), "prechat": PRECHAT}
            bits, cpu, tries, queued = 0, 0.0, 0, False
            for _ in range(4):
                try:
                    assert child.socket is not None
                    await child.socket.request(dict(frame), timeout=30)
                    queued = True
                    break
                except FrameError as exc:
                    if exc.code != "pow_required":
                        break
                    challenge = exc.frame["challenge"]
                    bits = int(challenge["bits"])
                    nonce, cpu_used = await asyncio.to_thread(_timed_solve, challenge["seed"], bits)
                    cpu, tries = cpu + cpu_used, tries + int(nonce) + 1
                    frame["pow"] = {"seed": challenge["seed"], "nonce": nonce}
            done.append((bits, cpu, tries, queued))
        except Exception:  # noqa: BLE001 - a refused or dropped socket: the attacker just goes on
            done.append((0, 0.0, 0, False))
        finally:
            await child.close()
    return done


def _timed_solve(seed: str, bits: int) -> tuple[str, float]:
    began = time.thread_time()
    nonce = pow.solve(seed, bits)
    return nonce, time.thread_time() - began


def _b64(raw: bytes) -> str:
    from helpline.crypto import b64u_encode
    return b64u_encode(raw)


def _self_key(child: ChildClient) -> str:
    from helpline import crypto
    return crypto.wrap_key(crypto.new_conversation_key(), child.public_key, child.private_key)


# -- the real child ------------------------------------------------------------------------------

def _real_child(browser: Any, url: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    seen: dict[str, Any] = {"puzzles": 0, "queued_at": None, "bits": []}

    def on_frame(payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        if '"pow_required"' in text:
            seen["puzzles"] += 1
            seen["bits"].append(json.loads(text)["challenge"]["bits"])
        elif '"type":"ack"' in text.replace(" ", "") and '"queued"' in text and seen["queued_at"] is None:
            seen["queued_at"] = time.monotonic()

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    try:
        start = time.monotonic()
        page.goto(url + "/", timeout=60_000)
        page.click("#start-chat")
        page.click("#prechat-submit")
        deadline = time.monotonic() + 60
        while seen["queued_at"] is None and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        context.close()
    queued = seen["queued_at"]
    return {"queued_s": round(queued - start, 2) if queued else None, "puzzles": seen["puzzles"],
            "bits": seen["bits"]}


def _phone_solving(browser: Any, url: str, bits_list: list[int], runs: int) -> dict[int, dict[str, float]]:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    page.goto(url + "/", timeout=60_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.evaluate(PAGE_SOLVER, [os.urandom(8).hex(), 8])  # warm the JIT as a page that already ran
    found: dict[int, dict[str, float]] = {}
    try:
        rate = statistics.median(float(page.evaluate(PAGE_RATE, 3000)) for _ in range(3))
        for bits in bits_list:
            times = [float(page.evaluate(PAGE_SOLVER, [os.urandom(16).hex(), bits])) / 1000 for _ in range(runs)]
            found[bits] = {"expected_s": round(2 ** bits / rate, 2), "mean_s": round(statistics.mean(times), 2),
                           "median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2),
                           "runs": runs, "hashes_per_s": round(rate)}
    finally:
        context.close()
    return found


# -- the run -------------------------------------------------------------------------------------

def run(attack_seconds: float, child_after: float, phone_runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="helpline-flood-"))
    stack = make_stack("sqlite", tmp, {"HELPLINE_LOG_LEVEL": "WARNING"})
    server = ServerProcess(stack).start()
    stack.servers.append(server)
    defaults = {setting.name: setting.default for setting in SETTINGS}
    base, top = int(defaults["HELPLINE_POW_BITS"]), int(defaults["HELPLINE_POW_MAX_BITS"])
    cores = os.cpu_count() or 1
    results: multiprocessing.Queue[Any] = multiprocessing.Queue()
    attackers = [multiprocessing.Process(target=_attacker, args=(server.url, stack.org_public_key, attack_seconds,
                                                                 results)) for _ in range(cores)]
    child: dict[str, Any] = {}
    phone: dict[int, dict[str, float]] = {}
    try:
        began = time.monotonic()
        for process in attackers:  # forked before the browser's threads exist
            process.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            time.sleep(max(0.0, child_after - (time.monotonic() - began)))
            child = _real_child(browser, server.url)
            child["after_attack_s"] = round(time.monotonic() - began, 1)
            attempts = [item for _ in attackers for item in results.get(timeout=attack_seconds + 120)]
            for process in attackers:
                process.join(30)
            phone = _phone_solving(browser, server.url, list(range(base, top + 2)), phone_runs)
            browser.close()
        queued_total = _count_queued(stack)
    finally:
        for process in attackers:
            if process.is_alive():
                process.kill()
        destroy_stack(stack)
    by_bits: dict[int, list[tuple[float, int]]] = {}
    for bits, cpu, tries, queued in attempts:
        if queued:
            by_bits.setdefault(bits, []).append((cpu, tries))
    cost = {bits: {"chats": len(items), "cpu_ms_per_chat": round(1000 * statistics.mean(c for c, _ in items), 1),
                   "hashes_per_chat": round(statistics.mean(t for _, t in items))}
            for bits, items in sorted(by_bits.items())}
    return {
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
        "date": dt.date.today().isoformat(),
        "machine": f"{cores} cores, {platform.machine()}, Python {platform.python_version()}",
        "attacker_processes": cores, "attack_seconds": attack_seconds,
        "attempts": len(attempts), "queued_by_attacker": sum(1 for a in attempts if a[3]),
        "queued_at_end": queued_total, "attacker_cost": cost, "real_child": child,
        "real_child_met": child.get("queued_s") is not None and child["queued_s"] <= 10,
        "phone_solving_cpu_x4": phone,
    }


def _count_queued(stack: Any) -> int:
    import sqlite3

    path = stack.sqlite_path
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM conversations WHERE state = 'queued'").fetchone()[0])


def markdown(result: dict[str, Any]) -> str:
    lines = ["| difficulty (bits) | attacker's chats queued | attacker CPU per queued chat | "
             "SHA-512s per chat | child's solving, CPU ×4: expected (2^bits ÷ rate) / measured mean / slowest |",
             "|---|---|---|---|---|"]
    phone = result["phone_solving_cpu_x4"]
    for bits in sorted({*map(int, result["attacker_cost"]), *map(int, phone)}):
        cost = result["attacker_cost"].get(bits) or result["attacker_cost"].get(str(bits))
        solving = phone.get(bits) or phone.get(str(bits))
        lines.append(f"| {bits or 'none'} | {cost['chats'] if cost else '–'} | "
                     f"{str(cost['cpu_ms_per_chat']) + ' ms' if cost else '–'} | "
                     f"{cost['hashes_per_chat'] if cost else '–'} | "
                     f"{phone_cell(solving)} |")
    return "\n".join(lines)


def phone_cell(solving: dict[str, float] | None) -> str:
    if not solving:
        return "–"
    return f"{solving['expected_s']} s / {solving['mean_s']} s / {solving['max_s']} s ({solving['runs']} runs)"


def main(attack_seconds: float, child_after: float, phone_runs: int, json_path: Path | None) -> int:
    result = run(attack_seconds, child_after, phone_runs)
    print(json.dumps(result, indent=2))
    print(markdown(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["real_child_met"] else 1
