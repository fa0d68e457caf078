"""Statistics at scale: the views with 1,000,000 contacts on every channel (issue 18, target < 1 s).

    nice python benchmarks/stats_scale.py                         # 1,000,000 contacts, SQLite
    nice python benchmarks/stats_scale.py --backend postgres --contacts 200000

Fills a fresh installation (tests.support.make_stack) with `helpline demo-data`: a quarter of the
contacts are chats (most with their case record), the rest calls, e-mails, visits, letters and
reports (stats/demo_contacts.py), over a year; then `helpline stats rollup --all` (timed apart: it
runs once, then a day at a time). Starts `helpline serve`, signs a manager in, and times each view
a manager uses, over the whole year, one county, and one category: the page, the JSON API and both
CSV layouts, each `--repeat` times after one warm-up request. Prints JSON and Markdown table rows
for docs/performance.md. Not part of `make test` (it takes minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.chat_client import StaffClient  # noqa: E402
from tests.support import ServerProcess, add_user, destroy_stack, make_stack  # noqa: E402

VIEWS = (("page", "/stats", {}), ("api", "/stats/api/report", {}),
         ("csv", "/stats/export.csv", {}), ("csv chi", "/stats/export.csv", {"layout": "chi"}))
FILTERS = (("year", {}), ("county", {"county": "Tiranë"}), ("category", {"category": "violence"}))


def cli(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "helpline.cli", *args], cwd=ROOT, env=env, check=True)  # noqa: S603
    return time.monotonic() - started


def time_views(url: str, cookies: dict[str, str], repeat: int) -> list[dict[str, Any]]:
    today = dt.date.today()
    span = {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat(), "lang": "sq"}
    rows = []
    with httpx.Client(base_url=url, cookies=cookies, timeout=120) as http:
        for filter_name, extra in FILTERS:
            for view, path, params in VIEWS:
                query = {**span, **extra, **params}
                first_started = time.perf_counter()
                answer = http.get(path, params=query)
                first = time.perf_counter() - first_started
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    assert http.get(path, params=query).status_code == 200
                    times.append(time.perf_counter() - started)
                rows.append({"filter": filter_name, "view": view, "first_s": round(first, 3),
                             "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts in all, every channel")
    parser.add_argument("--referrals", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    chats = args.contacts // 4
    with tempfile.TemporaryDirectory(prefix="stats-scale-") as tmp:
        stack = make_stack(args.backend, Path(tmp))
        try:
            fill = cli(stack.env, "demo-data", "--conversations", str(chats), "--contacts",
                       str(args.contacts - chats), "--referrals", str(args.referrals), "--days", "365",
                       "--no-rollup")
            rollup = cli(stack.env, "stats", "rollup", "--all")
            server = ServerProcess(stack, extra_env={"HELPLINE_LOG_LEVEL": "WARNING"}).start()
            stack.servers.append(server)
            password = add_user(stack, "bench-manager", "manager")
            staff = StaffClient(server.url, "bench-manager", password)
            asyncio.run(staff.sign_in())
            rows = time_views(server.url, staff.cookies, args.repeat)
        finally:
            destroy_stack(stack)
    result = {"backend": args.backend, "contacts": args.contacts, "chats": chats, "fill_s": round(fill, 1),
              "rollup_all_s": round(rollup, 1), "views": rows, "date": dt.date.today().isoformat(),
              "machine": f"{platform.machine()}, {platform.python_version()}", "cpus": __import__("os").cpu_count()}
    print(json.dumps(result, indent=1))
    for row in rows:
        print(f"| {args.backend} | {args.contacts:,} | {row['filter']} | {row['view']} | {row['first_s']} s | "
              f"{row['median_s']} s | {row['max_s']} s |")


if __name__ == "__main__":
    main()
