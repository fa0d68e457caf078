"""Issue 19, services near the child: the directory ships the 61 units and the police directorates;
admins export and import it as CSV (all or nothing); counsellors search it by municipality and
kind; the child's "more help" page shows the unit of the municipality she picks, with its contact."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.integration.referral_support import cli, member, query
from tests.support import Stack

NEW_ROWS = """code,kind,name,county,municipality,phone,email,address,website,hours
cpu-shkoder,cpu,Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër,Shkodër,Shkodër,+355 22 400 111,\
njmf@shkoder.example,"Rruga 13 Dhjetori, Shkodër",,08:00–16:00
psy-shkoder,psychological,Qendra e Këshillimit Psikologjik Shkodër,Shkodër,Shkodër,022 123 456,,,https://psy.example,
shelter-national,shelter,Streha Kombëtare për Fëmijë,,,04 222 333,,,,
"""


async def test_admins_import_counsellors_search_and_the_child_sees_her_unit(stack: Stack, start_server: Any) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    admin = await member(stack, "adi", "admin", with_key=False)
    ana = await member(stack, "ana", "counsellor")
    async with admin.client(server.url) as http:
        exported = await http.get("/admin/services.csv")
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert sum(r["kind"] == "cpu" for r in rows) == 61
        assert {"police-shkoder", "police-tirane", "police-state", "police-cyber"} <= {r["code"] for r in rows}

        bad = NEW_ROWS + "x y,ngo,Bad code,,,,,,,\n"
        refused = await http.post("/admin/api/services/import", json={"csv": bad})
        assert refused.status_code == 400
        assert refused.json()["error"] == (
            "Rreshti 5: kodi duhet të ketë vetëm shkronja të vogla, shifra dhe viza.")
        assert await query(stack, "SELECT count(*) FROM service_contacts") == [(0,)]
        assert await query(stack, "SELECT count(*) FROM agencies WHERE code = 'psy-shkoder'") == [(0,)]

        done = await http.post("/admin/api/services/import", json={"csv": NEW_ROWS})
        assert done.status_code == 200, done.text
        assert done.json() == {"added": 2, "updated": 1}
        again = await http.post("/admin/api/services/import", json={"csv": NEW_ROWS})
        assert again.json() == {"added": 0, "updated": 3}
        assert await query(stack, "SELECT count(*) FROM audit_log WHERE action = 'services.imported'") == [(2,)]
        assert (await http.get("/console/api/services")).status_code == 403  # an admin does not refer

    async with ana.client(server.url) as http:
        psy = (await http.get("/console/api/services", params={"municipality": "Shkodër", "kind": "psychological"}))
        assert [s["code"] for s in psy.json()["services"]] == ["psy-shkoder"]
        assert psy.json()["services"][0]["website"] == "https://psy.example"
        cpu = (await http.get("/console/api/services", params={"municipality": "Shkodër", "kind": "cpu"})).json()
        assert [(s["code"], s["phone"]) for s in cpu["services"]] == [("cpu-shkoder", "+355 22 400 111")]
        police = (await http.get("/console/api/services", params={"municipality": "Shkodër", "kind": "police"})).json()
        codes = [s["code"] for s in police["services"]]
        assert codes[0] == "police-shkoder" and set(codes) == {"police-shkoder", "police-state", "police-cyber"}
        shelter = (await http.get("/console/api/services", params={"municipality": "Vlorë", "kind": "shelter"})).json()
        assert [s["code"] for s in shelter["services"]] == ["shelter-national"]
        unknown = await http.get("/console/api/services", params={"kind": "astrologer"})
        assert unknown.status_code == 400 and unknown.json()["error"] == "Lloj shërbimi i panjohur."
        nowhere = await http.get("/console/api/services", params={"municipality": "Atlantis"})
        assert nowhere.status_code == 400 and nowhere.json()["error"] == "Bashki e panjohur."

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as child:
        page = await child.get("/help/more-help", params={"municipality": "Shkodër"})
        assert page.status_code == 200
        assert "Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër" in page.text
        assert 'href="tel:+35522400111"' in page.text and "Telefoni:" in page.text
        other = await child.get("/help/more-help", params={"municipality": "Vlorë", "lang": "en"})
        assert "Bashkia Vlorë" in other.text
        assert 'Call <a href="tel:116111">116 111</a> and we will put you in touch with them.' in other.text
        plain = await child.get("/help/more-help", params={"municipality": "<script>"})
        assert plain.status_code == 200 and 'id="unit"' not in plain.text
