"""The agency directory data file: 61 municipalities' Child Protection Units in their 12 counties,
the police (cybercrime sector and the 12 county directorates), the State Agency and the helpline."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from referral import directory

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = ["Berat", "Dibër", "Durrës", "Elbasan", "Fier", "Gjirokastër", "Korçë", "Kukës", "Lezhë", "Shkodër",
            "Tiranë", "Vlorë"]
# Law 115/2014 on the administrative-territorial division: municipalities per county.
PER_COUNTY = {"Berat": 5, "Dibër": 4, "Durrës": 3, "Elbasan": 7, "Fier": 6, "Gjirokastër": 7, "Korçë": 6,
              "Kukës": 3, "Lezhë": 3, "Shkodër": 5, "Tiranë": 5, "Vlorë": 7}
SAMPLES = {"Shkodër": "Shkodër", "Vau i Dejës": "Shkodër", "Kamëz": "Tiranë", "Kavajë": "Tiranë",
           "Pogradec": "Korçë", "Pustec": "Korçë", "Dropull": "Gjirokastër", "Finiq": "Vlorë", "Has": "Kukës",
           "Kurbin": "Lezhë", "Klos": "Dibër", "Dimal": "Berat", "Shijak": "Durrës", "Prrenjas": "Elbasan",
           "Roskovec": "Fier", "Malësi e Madhe": "Shkodër", "Fushë-Arrëz": "Shkodër", "Himarë": "Vlorë"}


@pytest.fixture(scope="module")
def data() -> dict[str, object]:
    return directory.read_file()


def cpus(data: dict[str, object]) -> list[dict[str, str]]:
    return [a for a in data["agencies"] if a["kind"] == "cpu"]  # type: ignore[attr-defined]


def test_exactly_61_municipalities_each_in_its_county(data: dict[str, object]) -> None:
    units = cpus(data)
    assert len(units) == 61
    assert len({u["municipality"] for u in units}) == 61
    assert data["counties"] == COUNTIES
    assert Counter(u["county"] for u in units) == PER_COUNTY
    by_name = {u["municipality"]: u["county"] for u in units}
    for municipality, county in SAMPLES.items():
        assert by_name[municipality] == county, municipality
    for unit in units:
        assert unit["name"] == f"Njësia për Mbrojtjen e Fëmijëve – Bashkia {unit['municipality']}"
        assert unit["code"] == f"cpu-{directory.slug(unit['municipality'])}"


def test_consistent_with_the_child_page_municipality_list(data: dict[str, object]) -> None:
    listed = json.loads((ROOT / "packs" / "al" / "municipalities.json").read_text(encoding="utf-8"))
    assert {(m["name"], m["county"]) for m in listed} == {(u["municipality"], u["county"]) for u in cpus(data)}


def test_police_state_agency_and_helpline(data: dict[str, object]) -> None:
    agencies = {a["code"]: a for a in data["agencies"]}  # type: ignore[attr-defined]
    assert agencies["police-cyber"]["kind"] == "police_cyber"
    assert agencies["police-state"]["kind"] == "police"
    assert agencies["ashdmf"]["kind"] == "state_agency"
    assert agencies["helpline-116111"]["kind"] == "helpline"
    local = [a for a in agencies.values() if a["kind"] == "police" and a["county"]]
    assert sorted(a["county"] for a in local) == sorted(COUNTIES)
    assert {"health", "education", "ngo", "social"} <= set(data["kinds"])  # type: ignore[arg-type]
    assert set(data["kinds"]) == set(directory.KINDS)  # type: ignore[arg-type]
    assert isinstance(data["version"], str) and data["version"]


def test_suggestion_follows_municipality_and_concern() -> None:
    assert directory.suggest_code("Vau i Dejës", "Shkodër", "family") == "cpu-vau-i-dejes"
    assert directory.suggest_code("Vau i Dejës", "Shkodër", "violence_emergency") == "police-shkoder"
    assert directory.suggest_code(None, None, "grooming") == "police-cyber"
    assert directory.suggest_code(None, None, "crime") == "police-state"
    assert directory.suggest_code(None, None, None) is None


def test_a_bad_file_is_refused_with_the_entry_named(tmp_path: Path) -> None:
    bad = tmp_path / "agencies.json"
    bad.write_text(json.dumps({"version": "1", "agencies": [{"code": "x", "kind": "spaceship", "name": "X"}]}))
    with pytest.raises(ValueError, match="agency x has an unknown kind"):
        directory.read_file(bad)
    bad.write_text(json.dumps({"version": "1", "agencies": [{"code": "x", "kind": "ngo", "name": "X"}] * 2}))
    with pytest.raises(ValueError, match="repeated code"):
        directory.read_file(bad)
