"""Statistics privacy (issue 7, acceptance 1 and 3) on generated data, with Hypothesis.

No displayed or exported cell is from 1 to k-1; no hidden cell can be worked out from the
cells and totals shown, by brute force over every value an outsider would still find possible;
two overlapping views (a period and a longer one, a county and the whole country) cannot be
subtracted to give a small count; and the counts behind the tables match a plain recount.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stats import export, privacy, queries, report, rollups
from stats.privacy import HIDDEN, SHOWN, SMALL, Cell

TZ = ZoneInfo("Europe/Tirane")
DAY0 = dt.date(2026, 3, 1)
MUNIS = ["Tiranë", "Kamëz", "Shkodër", "Vau i Dejës", "Berat", "Poliçan"]
CATEGORIES = ["violence", "family", "peers", None]


def possible_values(cell: Cell, k: int, cap: int) -> range:
    lo, hi = privacy.interval(cell, k)
    return range(lo, min(hi, cap) + 1)


def brute_force(cells: list[Cell], total: Cell, k: int) -> list[tuple[int, ...]]:
    """Every assignment of the hidden cells an outsider finds consistent with what is shown
    (only for small search spaces: it is the slow, obvious check of :func:`possible`)."""
    t_lo, t_hi = privacy.interval(total, k)
    hidden = [i for i, c in enumerate(cells) if c.status != SHOWN]
    shown_ranges = [privacy.interval(c, k) for c in cells if c.status == SHOWN]
    s_lo, s_hi = sum(r[0] for r in shown_ranges), sum(r[1] for r in shown_ranges)
    found = []
    for combo in itertools.product(*(possible_values(cells[i], k, t_hi) for i in hidden)):
        rest_lo, rest_hi = t_lo - sum(combo), t_hi - sum(combo)
        if rest_hi >= s_lo and rest_lo <= s_hi:
            found.append(combo)
    return found


def possible(cells: list[Cell], total: Cell, k: int) -> dict[int, set[int]]:
    """For each hidden cell (by position), every value it can take with the others consistent.

    A value v of cell i is possible when some choice of every other cell within its own range
    makes the sum land in the total's range; integer ranges add up to a range, so that is one
    comparison per value (tried one by one, not derived from the privacy module's formula)."""
    t_lo, t_hi = privacy.interval(total, k)
    ranges = [(lo, min(hi, t_hi)) for lo, hi in (privacy.interval(c, k) for c in cells)]
    answer: dict[int, set[int]] = {}
    for i, cell in enumerate(cells):
        if cell.status == SHOWN:
            continue
        others_lo = sum(r[0] for j, r in enumerate(ranges) if j != i)
        others_hi = sum(r[1] for j, r in enumerate(ranges) if j != i)
        answer[i] = {v for v in range(ranges[i][0], ranges[i][1] + 1)
                     if v + others_hi >= t_lo and v + others_lo <= t_hi}
    return answer


def assert_protected(table: privacy.Table, counts: dict[str, int], k: int) -> None:
    for cell in (*table.cells, table.total):
        if cell.status == SHOWN:
            assert cell.value == 0 or cell.value >= k, cell  # never 1..k-1 on show
    for cell in table.cells:
        n = counts[cell.key]
        if 0 < n < k:
            assert cell.status in (SMALL, HIDDEN), (cell, n)
        if cell.status == SMALL:
            assert cell.text(k) == f"< {k}"
    cells = list(table.cells)
    hidden = [i for i, c in enumerate(cells) if c.status != SHOWN]
    if not hidden:
        return
    options = possible(cells, table.total, k)
    for i in hidden:  # the truth is among what an outsider finds possible (the ranges are right)
        assert counts[cells[i].key] in options[i], (cells[i], counts[cells[i].key], options[i])
        if 0 < counts[cells[i].key] < k:
            assert len(options[i]) > 1, f"{cells[i].key} pinned to {options[i]} in {table}"
    _, t_hi = privacy.interval(table.total, k)
    space = 1
    for i in hidden:
        space *= len(possible_values(cells[i], k, t_hi))
    if space <= 20_000:  # small enough to try every combination: the fast reasoning agrees
        combos = brute_force(cells, table.total, k)
        for position, i in enumerate(hidden):
            assert {combo[position] for combo in combos} == options[i]


small_tables = st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 25), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(counts=small_tables, k=st.integers(3, 6))
def test_no_small_cell_is_shown_or_can_be_worked_out(counts: dict[str, int], k: int) -> None:
    assert_protected(privacy.protect(counts, k), counts, k)


@settings(max_examples=300, deadline=None)
@given(a=st.integers(0, 60), b=st.integers(0, 60), k=st.integers(3, 6))
def test_overlapping_views_do_not_subtract_to_a_small_count(a: int, b: int, k: int) -> None:
    """A view of ``a + b`` and a view of ``a`` (a longer period, or the whole country and one county):
    when b is small, the two shown numbers still leave more than one value of b possible."""
    wide, narrow = privacy.show("x", a + b, k), privacy.show("x", a, k)
    w_lo, w_hi = privacy.interval(wide, k)
    n_lo, n_hi = privacy.interval(narrow, k)
    possible = {d for d in range(0, 200) if any(w_lo <= x + d <= w_hi for x in range(n_lo, min(n_hi, 400) + 1))}
    assert b in possible
    if 0 < b < k:
        assert len(possible) > 1


def test_rounding_and_small_cells() -> None:
    assert [privacy.show("x", n, 5).text(5) for n in (0, 1, 4, 5, 7, 8, 12, 13)] == \
        ["0", "< 5", "< 5", "5", "5", "10", "10", "15"]
    table = privacy.protect({"a": 1, "b": 1}, 5)  # both small, total small too
    assert table.total.text(5) == "< 5"
    # Total 8 shows as 10 (8 to 12): with two cells of at most 4, each must be 4. All are hidden.
    table = privacy.protect({"a": 4, "b": 4}, 5)
    assert {c.status for c in table.cells} == {HIDDEN}
    table = privacy.protect({"a": 3, "b": 20}, 5)  # 23 shows 25: a could be 1 to 4
    assert [c.text(5) for c in table.cells] == ["< 5", "20"]


# -- generated datasets through the whole pipeline --------------------------------------------

conversation = st.builds(
    lambda day, hour, muni, cat, accepted, wait, returning, fb, age: rollups.ConversationFacts(
        created_at=dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(hour), TZ).astimezone(dt.UTC),
        accepted_at=(dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(hour), TZ).astimezone(dt.UTC)
                     + dt.timedelta(seconds=wait)) if accepted else None,
        ended_at=None, state="ended" if accepted else "abandoned", urgency=0, contact_by="child",
        age_band=age, gender=None, municipality=muni, county=None, returning=returning, feedback=fb,
        blocked_at=None, contact_type="counselling" if cat else None, category=cat, secondary=(),
        risk=None, outcome=None, case_age_band=None, case_gender=None),
    st.integers(0, 13), st.integers(0, 23), st.sampled_from(MUNIS), st.sampled_from(CATEGORIES), st.booleans(),
    st.integers(0, 2000), st.booleans(), st.sampled_from(["yes", "no", None]),
    st.sampled_from(["10-12", "13-15", None]))

filters = st.builds(
    lambda start, length, county, category: queries.Filters(
        DAY0 + dt.timedelta(days=start), DAY0 + dt.timedelta(days=start + length), county, category),
    st.integers(0, 10), st.integers(0, 13), st.sampled_from(["*", "Tiranë", "Shkodër", "Berat"]),
    st.sampled_from(["*", "violence", "family", "-"]))


def recount(records: list[rollups.ConversationFacts], f: queries.Filters, dim: str) -> Counter[str]:
    """The plain way: look at every record, keep those the filters select, count one field."""
    counts: Counter[str] = Counter()
    for r in records:
        day = r.created_at.astimezone(TZ).date()
        county = rollups.county_of_municipality()[r.municipality] if r.municipality else "?"
        if not f.start <= day <= f.end:
            continue
        if f.county != "*" and county != f.county:
            continue
        if f.category != "*" and (r.category or "-") != f.category:
            continue
        value = {"age_band": r.age_band or "?", "municipality": r.municipality or "?", "category": r.category or "-",
                 "hour": str(r.created_at.astimezone(TZ).hour), "total": "all",
                 "queue": "answered" if r.accepted_at else "abandoned"}[dim]
        counts[value] += 1
    return counts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(conversation, max_size=120), chosen=filters, k=st.integers(3, 6))
def test_generated_data_tables_are_protected_and_match_a_recount(records: list[rollups.ConversationFacts],
                                                                  chosen: queries.Filters, k: int) -> None:
    counts = rollups.aggregate_conversations(records, TZ)
    current = queries.slice_from_counts(counts, chosen)
    for dim in ("total", "age_band", "category", "hour", "queue", "municipality"):
        if rollups.available(chosen.county, chosen.category, dim):
            assert +current.dim("c", dim) == +recount(records, chosen, dim), dim
        else:  # not kept for this filter combination: nothing shown rather than a wrong count
            assert not current.dim("c", dim) and all(t.id != dim for t in
                                                     report.build_report(current, current, chosen, k, "en").tables)
    previous = queries.slice_from_counts(counts, chosen.previous())
    built = report.build_report(current, previous, chosen, k, "en")
    exported = export.csv_rows(built) + export.csv_rows(built, "chi")
    for row in exported[1:]:
        for text in row[3:5]:
            if text.isdigit():
                assert int(text) == 0 or int(text) >= k, row
    for table in built.tables:
        raw = _raw(table.id, current)
        if raw is None:
            continue
        cells = [r.cell for r in table.rows]
        if table.id != "secondary":
            assert_protected(privacy.Table(tuple(cells), table.total), {c.key: raw.get(c.key, 0) for c in cells}, k)


def _raw(table_id: str, current: queries.Slice) -> dict[str, int] | None:
    if table_id in ("age_band", "category", "hour", "queue", "returning", "feedback", "weekday"):
        return dict(current.dim("c", table_id))
    return None


def test_small_municipalities_go_into_their_county() -> None:
    merged, groups = privacy.merge_small_municipalities({"Tiranë": 40, "Kamëz": 2, "Vorë": 1, "Berat": 3},
                                                        rollups.county_of_municipality(), 5)
    assert merged == {"Tiranë": 40, "county:Tiranë": 3, "county:Berat": 3}
    table = privacy.protect_grouped(merged, groups, 5)
    shown = {c.key: c.text(5) for c in table.cells}
    assert shown["county:Berat"] == "< 5" and shown["Tiranë"] == "40"
