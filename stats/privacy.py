"""Every disclosure rule of the statistics, in one place.

A table is a list of cells (counts of one breakdown) with its total. Before anything is shown or
exported it goes through :func:`protect`:

1. Primary suppression: a count from 1 to k-1 shows as "< k".
2. Rounding: every other count, and every total, shows rounded to the nearest multiple of k. Two
   overlapping views (a date range and a longer one, a county and the whole country) then cannot
   be subtracted to give a small count: the difference of two rounded values is uncertain by
   2(k-1), which for k >= 3 always leaves more than one value from 1 to k-1 possible.
3. Complementary suppression: while someone who knows the rules could still pin a hidden cell
   to one value from what is shown (the total, the other cells, the rounding intervals), the
   smallest shown cell is hidden too ("x"). If that is not enough, every cell of the table is
   hidden ("x", zeros included), and only the (rounded) total remains.
4. Municipalities with fewer than k contacts are merged into "rest of <county>" before 1-3, and
   each county's rows are protected against that county's total.
5. Shares (percentages) are computed from the shown numbers only, and hidden when either is.

`audit` is the attacker's side: what an outsider can infer about each hidden cell from the
shown table. `protect` keeps hiding until `audit` pins nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# How a cell is shown.
SHOWN = "shown"      # a rounded count, or 0
SMALL = "small"      # primary suppression: "< k"
HIDDEN = "hidden"    # complementary suppression: "x"

UNBOUNDED = 10**12


@dataclass(frozen=True)
class Cell:
    key: str
    status: str
    value: int | None  # the shown (rounded) number; None when hidden

    def text(self, k: int) -> str:
        if self.status == SMALL:
            return f"< {k}"
        if self.status == HIDDEN:
            return "x"
        return str(self.value)


@dataclass(frozen=True)
class Table:
    cells: tuple[Cell, ...]
    total: Cell

    def by_key(self) -> dict[str, Cell]:
        return {c.key: c for c in self.cells}


def check_k(k: int) -> int:
    if k < 3:
        raise ValueError("the statistics threshold k must be at least 3")
    return k


def round_count(n: int, k: int) -> int:
    """Nearest multiple of k, halves up; a count of k or more never rounds below k."""
    return ((2 * n + k) // (2 * k)) * k


def interval(cell: Cell, k: int) -> tuple[int, int]:
    """What an outsider knows of the true count behind a shown cell."""
    if cell.status == SMALL:
        return 1, k - 1
    if cell.status == HIDDEN:
        return 0, UNBOUNDED
    assert cell.value is not None
    if cell.value == 0:
        return 0, 0
    return max(k, cell.value - k // 2), cell.value + (k - 1) // 2


def show(key: str, n: int, k: int) -> Cell:
    if n == 0:
        return Cell(key, SHOWN, 0)
    if n < k:
        return Cell(key, SMALL, None)
    return Cell(key, SHOWN, round_count(n, k))


def audit(cells: Iterable[Cell], total: Cell, k: int) -> set[str]:
    """Keys of hidden cells ("< k" or "x") whose true count the shown numbers pin to one value.

    Interval propagation over ``sum(cells) == total``: exact for a single sum constraint.
    """
    cells = list(cells)
    t_lo, t_hi = interval(total, k)
    bounds = [interval(c, k) for c in cells]
    lo_sum = sum(b[0] for b in bounds)
    hi_sum = sum(b[1] for b in bounds)
    pinned: set[str] = set()
    for cell, (lo, hi) in zip(cells, bounds, strict=True):
        if cell.status == SHOWN:
            continue
        new_lo = max(lo, t_lo - (hi_sum - hi))
        new_hi = min(hi, t_hi - (lo_sum - lo))
        if new_lo >= new_hi:
            pinned.add(cell.key)
    return pinned


def protect(counts: Mapping[str, int], k: int, total: int | None = None) -> Table:
    """The shown form of one breakdown. ``total`` defaults to the sum of the counts."""
    check_k(k)
    whole = sum(counts.values()) if total is None else total
    total_cell = show("total", whole, k)
    cells = {key: show(key, n, k) for key, n in counts.items()}
    while True:
        pinned = audit(cells.values(), total_cell, k)
        if not pinned:
            break
        candidates = sorted((n, key) for key, n in counts.items() if cells[key].status == SHOWN and n > 0)
        if not candidates:
            cells = {key: Cell(key, HIDDEN, None) for key in counts}
            break
        _, key = candidates[0]
        cells[key] = Cell(key, HIDDEN, None)
    return Table(tuple(cells[key] for key in counts), total_cell)


def protect_grouped(counts: Mapping[str, int], group_of: Mapping[str, str], k: int) -> Table:
    """A breakdown whose rows nest in groups (municipalities in counties): each group is protected
    against its own total, which another table shows."""
    groups: dict[str, dict[str, int]] = {}
    for key, n in counts.items():
        groups.setdefault(group_of[key], {})[key] = n
    cells: list[Cell] = []
    for members in groups.values():
        cells.extend(protect(members, k).cells)
    return Table(tuple(cells), show("total", sum(counts.values()), k))


def merge_small_municipalities(counts: Mapping[str, int], county_of: Mapping[str, str],
                               k: int) -> tuple[dict[str, int], dict[str, str]]:
    """Municipalities below k go into one 'rest of <county>' row (key ``county:<name>``)."""
    merged: dict[str, int] = {}
    groups: dict[str, str] = {}
    for key, n in sorted(counts.items()):
        county = county_of.get(key, "?")
        target = key if n >= k or n == 0 else f"county:{county}"
        if n == 0:
            continue
        merged[target] = merged.get(target, 0) + n
        groups[target] = county
    return merged, groups


def share(part: Cell, whole: Cell) -> float | None:
    """A percentage from shown numbers only; None when either is hidden or the whole is 0."""
    if part.status != SHOWN or whole.status != SHOWN or not whole.value or part.value is None:
        return None
    return round(100.0 * part.value / whole.value, 1)


def percentile_bucket(histogram: Mapping[int, int], fraction: float, k: int) -> int | None:
    """The bucket edge that holds the given fraction of a distribution; None under k observations."""
    n = sum(histogram.values())
    if n < k:
        return None
    need = fraction * n
    seen = 0
    for edge in sorted(histogram):
        seen += histogram[edge]
        if seen >= need:
            return edge
    return max(histogram)
