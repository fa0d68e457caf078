"""Issue 19, acceptance 2, over HTTP against a real server with real PyNaCl: one referral to two
agencies (the Child Protection Unit of Shkodër and the Shkodër police). Each officer decrypts the
details shared with their agency and the one shared thread, and gets nothing of the other agency's
details: no wrapped key for them in the database and a refusal from the API. Bad input is refused
with a clear message and nothing is saved; the statistics count each agency's part."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from helpline import crypto
from tests.integration.referral_support import Member, cli, member, open_text, query, seal_text, unwrap, wrap_for
from tests.support import ServerProcess, Stack

CPU_SHARE = {"child": "Arta, 12 vjeç", "place": "Rruga e Detit 7", "family": "Jeton me nënën dhe babain",
             "concern": "Babai e godet në shtëpi", "requested_action": "Vizitë në shtëpi sot"}
POLICE_SHARE = {"concern": "Babai e godet në shtëpi", "requested_action": "Vizitë në shtëpi sot"}
EN = {"x-helpline-lang": "en"}


def _readers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data["readers"])


async def _body(http: httpx.AsyncClient, stack: Stack, ana: Member, shares: dict[str, dict[str, str]]
                ) -> tuple[dict[str, Any], dict[str, bytes], bytes]:
    """What the console does for a referral to several agencies: a key per agency for its share,
    and a thread key wrapped for every reader of every agency."""
    legs, keys, everyone = [], {}, {}
    for code, share in shares.items():
        info = await http.get("/console/api/referral-readers", params={"agency": code})
        assert info.status_code == 200, info.text
        readers = _readers(info.json())
        everyone.update({r["id"]: r for r in readers})
        keys[code] = crypto.new_conversation_key()
        consent = {"identity": "child_consented" if "child" in share else "not_shared",
                   "account_of_events": "child_consented"}
        legs.append({"agency": code, "consent": consent,
                     "content": seal_text(keys[code], json.dumps(share, ensure_ascii=False)),
                     "keys": wrap_for(readers, ana, keys[code], stack.org_public_key)})
    thread_key = crypto.new_conversation_key()
    body = {"urgency": "urgent", "chi_category": "violence.physical", "conversation": None, "legs": legs,
            "thread_keys": wrap_for(list(everyone.values()), ana, thread_key, stack.org_public_key)}
    return body, keys, thread_key


def _thread_key(me: Member, read: dict[str, Any]) -> bytes:
    key = read["thread"]["key"]
    return crypto.unwrap_key(key["wrapped_key"], crypto.b64u_decode(key["wrapper_public_key"]), me.private_key)


async def test_two_agencies_each_read_their_share_and_one_thread(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    ana = await member(stack, "ana", "counsellor")
    sara = await member(stack, "sara", "supervisor")
    cpo = await member(stack, "drita", "officer", agency="cpu-shkoder")
    police = await member(stack, "gent", "officer", agency="police-shkoder")
    await member(stack, "besa", "officer", agency="cpu-tirane")

    async with ana.client(server.url) as console:
        shares = {"cpu-shkoder": CPU_SHARE, "police-shkoder": POLICE_SHARE}
        body, keys, thread_key = await _body(console, stack, ana, shares)

        # Bad input first: each refused with a clear message, and nothing is saved.
        twice = {**body, "legs": [body["legs"][0], body["legs"][0]]}
        refused = await console.post("/console/api/referral-groups", json=twice, headers=EN)
        assert refused.status_code == 400 and "is named twice" in refused.json()["error"], refused.text
        unknown = {**body, "legs": [body["legs"][0], {**body["legs"][1], "agency": "police-atlantis"}]}
        refused = await console.post("/console/api/referral-groups", json=unknown, headers=EN)
        assert refused.status_code == 400
        assert refused.json()["error"] == "There is no active agency with the code police-atlantis."
        nobody = {**body, "legs": [body["legs"][0], {**body["legs"][1], "agency": "cpu-berat"}]}
        refused = await console.post("/console/api/referral-groups", json=nobody, headers=EN)
        assert refused.status_code == 409 and "can read referrals yet" in refused.json()["error"]
        alone = {**body, "legs": body["legs"][:1]}
        refused = await console.post("/console/api/referral-groups", json=alone, headers=EN)
        assert refused.status_code == 400 and "from 2 to 5 agencies" in refused.json()["error"]
        short = {**body, "thread_keys": body["thread_keys"][1:]}
        refused = await console.post("/console/api/referral-groups", json=short, headers=EN)
        assert refused.status_code == 400 and "thread key is not wrapped" in refused.json()["error"]
        for table in ("referrals", "referral_threads", "referral_keys", "referral_thread_keys"):
            assert await query(stack, f"SELECT count(*) FROM {table}") == [(0,)], table

        made = await console.post("/console/api/referral-groups", json=body)
        assert made.status_code == 201, made.text
        legs = {item["agency"]: item for item in made.json()["referrals"]}
        assert set(legs) == set(shares) and all(item["state"] == "sent" for item in legs.values())
        cpu_id, police_id = legs["cpu-shkoder"]["id"], legs["police-shkoder"]["id"]

    # In the database: the police officer holds a key to the thread and to the police's leg only.
    held = await query(stack, "SELECT referral_id FROM referral_keys WHERE reader = :r", {"r": police.participant})
    assert held == [(police_id,)]
    held = await query(stack, "SELECT referral_id FROM referral_keys WHERE reader = :r", {"r": cpo.participant})
    assert held == [(cpu_id,)]
    thread_readers = {r for (r,) in await query(stack, "SELECT reader FROM referral_thread_keys")}
    assert thread_readers == {ana.participant, sara.participant, cpo.participant, police.participant}

    posted: list[tuple[Member, str, str]] = [
        (cpo, "/referrals/api/referrals/" + cpu_id, "Nesër në 10 vizitojmë familjen."),
        (police, "/referrals/api/referrals/" + police_id, "Patrulla kaloi sot, gjithçka e qetë."),
        (ana, "/console/api/referrals/" + police_id, "Faleminderit, fëmija e di që do të vini."),
    ]
    for who, base, text in posted:
        async with who.client(server.url) as http:
            sent = await http.post(base + "/thread", json={"body": seal_text(thread_key, text)})
            assert sent.status_code == 201, sent.text
            plain = await http.post(base + "/thread", json={"body": text})
            assert plain.status_code == 400  # ciphertext only

    for officer, mine, theirs, share in ((cpo, cpu_id, police_id, CPU_SHARE),
                                         (police, police_id, cpu_id, POLICE_SHARE)):
        async with officer.client(server.url) as portal:
            listed = [item["id"] for item in (await portal.get("/referrals/api/referrals")).json()["referrals"]]
            assert listed == [mine]
            read = (await portal.get(f"/referrals/api/referrals/{mine}")).json()
            assert json.loads(open_text(unwrap(officer, read), read["content"])) == share
            key = _thread_key(officer, read)
            assert key == thread_key
            assert [open_text(key, m["body"]) for m in read["thread"]["messages"]] == [t for _w, _b, t in posted]
            assert [m["agency"] for m in read["thread"]["messages"]] == [
                "Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër", "Drejtoria Vendore e Policisë Shkodër", None]
            assert {leg["agency"]: leg["this"] for leg in read["thread"]["legs"]} == {
                "cpu-shkoder": mine == cpu_id, "police-shkoder": mine == police_id}
            # The other agency's leg: refused, and no key of this officer would open it anyway.
            other = await portal.get(f"/referrals/api/referrals/{theirs}")
            assert other.status_code == 403
            assert "content" not in other.text
            step = await portal.post(f"/referrals/api/referrals/{theirs}/thread",
                                     json={"body": seal_text(thread_key, "x")})
            assert step.status_code == 403
    # The police's key does not open the unit's details (cryptographically, not only by the API).
    async with sara.client(server.url) as console:
        cpu_read = (await console.get(f"/console/api/referrals/{cpu_id}")).json()
    assert cpu_read["thread"]["key"] is not None
    police_read_key = (await query(stack, "SELECT wrapped_key, wrapper_public_key FROM referral_keys "
                                          "WHERE referral_id = :r AND reader = :p",
                                   {"r": police_id, "p": police.participant}))[0]
    police_key = crypto.unwrap_key(police_read_key[0], crypto.b64u_decode(police_read_key[1]), police.private_key)
    try:
        open_text(police_key, cpu_read["content"])
    except crypto.CryptoError:
        pass
    else:
        raise AssertionError("the police's key opened the unit's details")

    # Each leg keeps its own acknowledgement; the statistics count each agency's part.
    async with cpo.client(server.url) as portal:
        assert (await portal.post(f"/referrals/api/referrals/{cpu_id}/acknowledge")).status_code == 200
    states = dict(await query(stack, "SELECT id, state FROM referrals"))
    assert states == {cpu_id: "acknowledged", police_id: "sent"}
    assert await _pathway(stack) == {"referred": 2, "acknowledged": 1}  # a referral per agency, as they count
    # An officer who joins the police later gets the thread key from the next reader who holds it.
    arben = await member(stack, "arben", "officer", agency="police-shkoder")
    async with police.client(server.url) as portal:
        read = (await portal.get(f"/referrals/api/referrals/{police_id}")).json()
        waiting = read["thread"]["missing_readers"]
        assert [r["id"] for r in waiting] == [arben.participant]
        stranger = await portal.post(f"/referrals/api/referrals/{police_id}/thread-keys", json={
            "keys": wrap_for([{"id": cpo.participant, "public_key": crypto.b64u_encode(cpo.public_key),
                               "signature": (await _signature(stack, cpo))}], police, thread_key,
                             stack.org_public_key)})
        assert stranger.status_code == 400  # only readers still waiting
        passed = await portal.post(f"/referrals/api/referrals/{police_id}/thread-keys",
                                   json={"keys": wrap_for(waiting, police, thread_key, stack.org_public_key)})
        assert passed.status_code == 200, passed.text
    async with arben.client(server.url) as portal:
        read = (await portal.get(f"/referrals/api/referrals/{police_id}")).json()
        assert open_text(_thread_key(arben, read), read["thread"]["messages"][0]["body"]) == posted[0][2]
    # A part is not re-routed to an agency that already has one: returned by the police, refused for the unit.
    async with police.client(server.url) as portal:
        back = await portal.post(f"/referrals/api/referrals/{police_id}/return",
                                 json={"reason": "not_our_competence"})
        assert back.status_code == 200, back.text
    async with ana.client(server.url) as console:
        info = (await console.get("/console/api/referral-readers", params={"agency": "cpu-shkoder"})).json()
        again = await console.post(f"/console/api/referrals/{police_id}/reroute", headers=EN, json={
            "agency": "cpu-shkoder", "keys": wrap_for(_readers(info), ana, keys["police-shkoder"],
                                                      stack.org_public_key)})
        assert again.status_code == 400 and "is named twice" in again.json()["error"], again.text
    assert dict(await query(stack, "SELECT id, state FROM referrals"))[police_id] == "returned"

    # Nothing readable reached the database.
    for table, column in (("referral_thread_messages", "body"), ("referrals", "content")):
        for (stored,) in await query(stack, f"SELECT {column} FROM {table}"):
            assert "Patrulla" not in stored and "Arta" not in stored and "vizitojmë" not in stored


async def _signature(stack: Stack, who: Member) -> str:
    return str((await query(stack, "SELECT key_signature FROM staff WHERE username = :u", {"u": who.username}))[0][0])


async def _pathway(stack: Stack) -> dict[str, int]:
    """The statistics' pathway counts, read as the dashboard reads them."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from helpline.db import make_engine, make_sessionmaker
    from stats import pathway
    from stats.queries import Filters

    today = dt.datetime.now(dt.UTC).date()
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            path = await pathway.load(db, Filters(today - dt.timedelta(days=1), today + dt.timedelta(days=1)),
                                      ZoneInfo("Europe/Tirane"), 0)
    finally:
        await engine.dispose()
    return {step: n for step, n in path.counts.items() if step in ("referred", "acknowledged") and n}
