"""What anyone without an account learns about the staff (issue 17): public answers and every frame
a child's socket receives carry opaque ids and keys, never a username, a display name or a role
list; the name a child sees is the first name chosen for children, or nothing (the page's neutral
word). Both backends."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx

from tests.chat_client import ChildClient, StaffClient
from tests.integration.referral_support import cli, member
from tests.integration.test_chat_e2e import PRECHAT, eventually
from tests.support import ROOT, ServerProcess, Stack, run_async

# Usernames long enough that a random base64 key cannot contain one by chance.
ANA, BEA, SARA = "anahoxha", "beagjoka", "saraleka"
DISPLAY = {ANA: "Ana Hoxha", BEA: "Bea Gjoka", SARA: "Sara Leka"}
PUBLIC_PAGES = ("/", "/?lang=en", "/report", "/report?lang=en", "/report/api/readers", "/help/chatting-here",
                "/healthz", "/openapi.json", "/console", "/referrals", "/stats")


def add(stack: Stack, username: str, role: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "helpline.cli", "user", "add", username, "--role", role,
         "--name", DISPLAY.get(username, username), *extra],
        input="pw-" + username + "-Long-enough-9\n", text=True, cwd=ROOT, env=stack.env, capture_output=True)


async def staff(server: ServerProcess, username: str) -> StaffClient:
    client = StaffClient(server.url, username, "pw-" + username + "-Long-enough-9")
    await client.sign_in()
    await client.connect()
    return client


def assert_anonymous(texts: list[str], forbidden: list[str]) -> None:
    for text in texts:
        lowered = text.casefold()
        for word in forbidden:
            assert word.casefold() not in lowered, f"{word!r} reached the public: {text[:300]}"


def test_children_and_the_public_never_learn_who_the_staff_are(stack: Stack, server: ServerProcess) -> None:
    cli(stack, "directory", "load")
    assert add(stack, ANA, "counsellor", "--child-name", "Lule").returncode == 0
    assert add(stack, BEA, "counsellor").returncode == 0  # no first name: the neutral word
    refused = add(stack, SARA, "supervisor", "--child-name", "SaraLeka")
    assert refused.returncode != 0 and "username" in refused.stderr
    assert add(stack, SARA, "supervisor", "--child-name", "Ana 2").returncode != 0  # one first name, letters
    assert add(stack, SARA, "supervisor", "--child-name", "Drita").returncode == 0
    forbidden = [ANA, BEA, SARA, *DISPLAY.values()]

    async def scenario() -> None:
        heard: list[str] = []
        sara = await staff(server, SARA)
        bea = await staff(server, BEA)
        child = ChildClient(server.url, stack.org_public_key)
        await child.connect()
        assert child.socket is not None
        child.socket.heard = heard
        conv = await child.start(PRECHAT)
        ana = await staff(server, ANA)
        queue = await ana.socket.next_event("queue")  # type: ignore[union-attr]
        while conv not in [item["conv"] for item in queue.get("items", [])]:
            queue = await ana.socket.next_event("queue")  # type: ignore[union-attr]
        await ana.accept(conv)
        await ana.wait_for_key(conv)
        await child.say("përshëndetje")
        reply = await ana.say(conv, "Si je?")
        await eventually(lambda: reply in child.received)

        # A second device resumes with the code: the ack's card is the same anonymous card.
        again = ChildClient(server.url, stack.org_public_key, child.secret)
        await again.connect()
        assert again.socket is not None
        again.socket.heard = heard
        ack = await again.resume()
        assert ack["counsellor"]["name"] == "Lule", ack
        await again.close()

        # An emergency: a supervisor joins, then the chat goes to a colleague with no first name.
        await ana.command({"type": "ask_supervisor", "conv": conv, "kind": "help"})
        alert = await sara.socket.next_event("alert")  # type: ignore[union-attr]
        await sara.command({"type": "join", "alert": alert["alert"]})
        request = await ana.socket.next_event("join_request")  # type: ignore[union-attr]
        await ana.grant(conv, request["supervisor"], stack.org_public_key)
        joined = await ana.socket.next_event("joined")  # type: ignore[union-attr]
        assert joined["name"] == "Sara Leka"  # colleagues still see the display name
        await ana.command({"type": "ask_supervisor", "conv": conv, "kind": "emergency"})
        async with httpx.AsyncClient(base_url=ana.base_url, cookies=ana.cookies,
                                     headers={"origin": ana.base_url, "x-csrf-token": ana.csrf}) as http:
            colleagues = (await http.get("/console/api/colleagues")).json()["staff"]
        bea_card = next(c for c in colleagues if c["id"] == bea.participant)
        await ana.transfer(conv, bea_card, stack.org_public_key)
        await bea.wait_for_key(conv)
        last = await bea.say(conv, "Jam këtu.")
        await eventually(lambda: last in child.received)
        await asyncio.sleep(0.3)  # let every event of the hand-over reach the child's socket

        frames = [json.loads(text) for text in heard]
        assigned = [f["counsellor"] for f in frames if f.get("type") == "assigned"]
        assert [card["name"] for card in assigned] == ["Lule", None], assigned
        assert all(set(card) == {"id", "name", "public_key", "signature", "has_key"} for card in assigned)
        kinds = {f["type"] for f in frames}
        assert {"assigned", "msg", "joined", "transferred", "safety_help"} <= kinds, kinds
        moved = next(f for f in frames if f["type"] == "transferred")
        assert set(moved) == {"type", "conv", "to"}, moved
        came = next(f for f in frames if f["type"] == "joined")
        assert set(came) == {"type", "conv", "role"}, came

        async with httpx.AsyncClient(base_url=server.url, follow_redirects=True) as public:
            pages = [await public.get(path) for path in PUBLIC_PAGES]
        assert all(page.status_code in (200, 401) for page in pages), [(p.url, p.status_code) for p in pages]
        readers = pages[PUBLIC_PAGES.index("/report/api/readers")].json()["readers"]
        assert readers and sara.participant in {r["id"] for r in readers}
        assert all(set(reader) == {"id", "public_key", "signature"} for reader in readers), readers
        assert_anonymous(heard + [page.text for page in pages], forbidden)
        for client in (child, ana, bea, sara):
            await client.close()

    run_async(scenario())


def test_the_admin_page_asks_for_the_name_children_see(stack: Stack, server: ServerProcess) -> None:
    async def scenario() -> None:
        admin = await member(stack, "adminlead7", "admin")
        async with admin.client(server.url) as http:
            base = {"name": "Arta Dema", "role": "counsellor"}
            same = await http.post("/console/api/admin/staff", json={**base, "username": "arta", "child_name": "ARTA"})
            assert same.status_code == 400 and "përdoruesit" in same.json()["error"], same.text
            long = await http.post("/console/api/admin/staff",
                                   json={**base, "username": "arta", "child_name": "Arta Dema Hoxha"})
            assert long.status_code == 400, long.text
            made = await http.post("/console/api/admin/staff", json={**base, "username": "arta", "child_name": "Ina"})
            assert made.status_code == 201, made.text
            plain = await http.post("/console/api/admin/staff", json={**base, "username": "blerta"})
            assert plain.status_code == 201, plain.text
            listed = {s["username"]: s for s in (await http.get("/console/api/admin/staff")).json()["staff"]}
            assert listed["arta"]["child_name"] == "Ina" and listed["blerta"]["child_name"] is None
            path = f"/console/api/admin/staff/{listed['blerta']['id']}/child-name"
            assert (await http.post(path, json={"child_name": "blerta"})).status_code == 400
            assert (await http.post(path, json={"child_name": "Era"})).status_code == 200
            listed = {s["username"]: s for s in (await http.get("/console/api/admin/staff")).json()["staff"]}
            assert listed["blerta"]["child_name"] == "Era"

    run_async(scenario())
