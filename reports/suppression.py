"""Small-count suppression for the reports' tables of counts.

The threshold ``k`` is the participant follow-up's (``settings.SST_SMALL_COUNT_THRESHOLD``,
default 5; ``followup.participant_suppression.threshold``). In a report:

1. **Primary.** A count of students (or cases) below ``k`` is shown as "< 5" — zero too:
   "none of them" says as much about a small group as "one of them". A share of a group, and
   any percentage computed over the students of a suppressed count, is suppressed with it.
2. **Complement.** A count ``c`` of a group of ``n`` is also suppressed when ``n - c`` is
   below ``k`` (but the group is not empty): "27 of 28 are above 15 %" singles out the one
   who is not as surely as "1 of 28" does.
3. **Secondary.** In a line of cells that adds up to a shown total (the steps of a month,
   the grades of a term, the reasons of the closures), suppressed cells could be recovered
   as the total minus the shown ones. So while exactly one cell is suppressed, or the
   suppressed cells together hold fewer than ``k``, the smallest shown cell is suppressed
   too; when the total itself is below ``k`` the whole line is suppressed.

4. **Between reports.** A manager who may open a district's report may open its schools'
   too, so the district's figure minus the shown figures of its schools would give a
   school's small, hidden figure away. A scope's figure is therefore hidden when, among the
   places directly below it (a district's schools, a municipality's districts), exactly one
   is hidden, or the hidden ones together hold fewer than ``k`` (``hidden_below``). A place
   below counts as hidden when its own figure is small (but not zero: "no students in
   grade 9" gives no one away) or, for a district, when the rule hid it in turn.

A suppressed cell is ``Count(value, suppressed=True)``: the value stays inside the program
(tests check the rule against it) and never reaches a page, a PDF, a CSV or an XLSX file —
the renderers print ``label()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from followup.participant_suppression import suppressed_label, threshold

__all__ = [
    "Count",
    "PlaceTree",
    "Share",
    "hidden_below",
    "line",
    "share",
    "suppressed_label",
    "threshold",
]


@dataclass(frozen=True)
class Count:
    value: int
    suppressed: bool = False

    def label(self) -> str:
        return suppressed_label(threshold()) if self.suppressed else str(self.value)

    def hidden(self) -> Count:
        return Count(self.value, suppressed=True)


@dataclass(frozen=True)
class Share:
    """A percentage of a group, two decimals; suppressed with the count it is computed from."""

    value: Decimal | None
    suppressed: bool = False

    def label(self) -> str:
        if self.suppressed:
            return suppressed_label(threshold())
        if self.value is None:
            return "–"
        return f"{self.value:.2f}".replace(".", ",")


def percent2(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with two decimals (half up), exact from integers."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def count_of_group(value: int, group: int, *, k: int | None = None, hidden: bool = False) -> Count:
    """Rules 1 and 2 for one count of a group of ``group`` students (``hidden``: rule 4 hid
    it already)."""
    k = threshold() if k is None else k
    hide = hidden or value < k or (0 < group - value < k) or group < k
    return Count(value, suppressed=hide)


def share(count: Count, group: int, *, group_suppressed: bool = False) -> Share:
    return Share(percent2(count.value, group), suppressed=count.suppressed or group_suppressed)


def line(
    values: Sequence[int],
    total: int | None = None,
    *,
    k: int | None = None,
    hidden: Sequence[bool] | None = None,
) -> list[Count]:
    """Rules 1 and 3 for cells that add up to ``total`` (their sum when not given);
    ``hidden`` marks cells another rule hid already."""
    k = threshold() if k is None else k
    total = sum(values) if total is None else total
    if total < k:
        return [Count(v, suppressed=True) for v in values]
    already = hidden or [False] * len(values)
    hidden = [v < k or h for v, h in zip(values, already, strict=True)]
    while any(hidden) and not all(hidden):
        hidden_sum = sum(v for v, h in zip(values, hidden, strict=True) if h)
        if sum(hidden) > 1 and hidden_sum >= k:
            break
        smallest = min((i for i, h in enumerate(hidden) if not h), key=lambda i: (values[i], i))
        hidden[smallest] = True
    return [Count(v, suppressed=h) for v, h in zip(values, hidden, strict=True)]


def total(value: int, *, k: int | None = None, hidden: bool = False) -> Count:
    k = threshold() if k is None else k
    return Count(value, suppressed=hidden or value < k)


@dataclass(frozen=True)
class PlaceTree:
    """The places below a scope that have reports of their own, as rule 4 needs them."""

    kind: str  # the scope's: "school", "district" or "municipality"
    district_of: Mapping[int, int]  # school id → district id, for every school of the scope

    @classmethod
    def of(cls, kind: str, schools: Iterable[tuple[int, int]]) -> PlaceTree:
        return cls(kind, dict(schools))


def _hidden_among(values: Sequence[tuple[int, bool]], k: int) -> bool:
    """Whether the hidden ones of these places (value, hidden) could be worked out."""
    hidden = [value for value, is_hidden in values if is_hidden]
    return bool(hidden) and (len(hidden) == 1 or sum(hidden) < k)


def hidden_below(by_school: Mapping[int, int], tree: PlaceTree, *, k: int | None = None) -> bool:
    """Rule 4: must the scope's figure (the sum of ``by_school``) be hidden, so that it does
    not give a place below it away?"""
    k = threshold() if k is None else k

    def small(value: int) -> bool:
        return 0 < value < k

    if tree.kind == "school":
        return False
    schools_of: dict[int, list[int]] = {}
    for school_id, district_id in tree.district_of.items():
        schools_of.setdefault(district_id, []).append(by_school.get(school_id, 0))
    if tree.kind == "district":
        values = [v for values in schools_of.values() for v in values]
        return _hidden_among([(v, small(v)) for v in values], k)
    districts = [
        (sum(values), small(sum(values)) or _hidden_among([(v, small(v)) for v in values], k))
        for values in schools_of.values()
    ]
    return _hidden_among(districts, k)


def median_label(value: Decimal | float | None, over: int, *, k: int | None = None) -> str:
    """A median over fewer than ``k`` cases is not shown (one case's own figure, near enough)."""
    k = threshold() if k is None else k
    if over < k:
        return suppressed_label(k)
    if value is None:
        return "–"
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), ROUND_HALF_UP)}".replace(".", ",")
