"""Small-count suppression for de-identified tables (the participant follow-up; the reports
can use the same rule).

The rule (docs/ARCHITECTURE.md "Participant follow-up"), with ``k`` the threshold
(``settings.SST_SMALL_COUNT_THRESHOLD``, default 5):

1. A selection of fewer than ``k`` rows is not released at all (``TooFewRows``).
2. In each quasi-identifier column (school, grade, gender, age…), a value that fewer than
   ``k`` rows share is replaced by ``SUPPRESSED`` ("< 5"); when only one value would hide
   behind it, the next rarest value is hidden too (complementary suppression: with a
   district's two schools, "< 5" must not name the other school).
3. Then the columns are taken together: every row whose combination of quasi-identifier
   values fewer than ``k`` rows share has its next column suppressed as well, in the order
   given (the most identifying first), until every combination is shared by at least ``k``
   rows or the row's quasi-identifiers are all suppressed.

So no one can be singled out by school, grade, gender and age together (k-anonymity over
those columns), and what is suppressed is said openly ("< 5"), never dropped silently:
every row stays, and so do totals of the other columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SUPPRESSED = "< 5"
DEFAULT_THRESHOLD = 5


def threshold() -> int:
    """The smallest count released (configurable; never below 2)."""
    return max(2, int(getattr(settings, "SST_SMALL_COUNT_THRESHOLD", DEFAULT_THRESHOLD)))


def suppressed_label(k: int) -> str:
    return f"< {k}"


class TooFewRows(ValidationError):
    """The selection is too small to release, whatever is suppressed."""


@dataclass
class Suppression:
    rows: list[dict[str, Any]]
    suppressed_cells: int


def suppress_rows(
    rows: Sequence[dict[str, Any]],
    quasi_identifiers: Sequence[str],
    *,
    k: int | None = None,
) -> Suppression:
    """The rows (copies) with rare quasi-identifier values replaced by "< k".

    ``quasi_identifiers`` are in the order their values are given up when a combination is
    still rare (the most identifying first). Raises ``TooFewRows`` for fewer than ``k``
    rows."""
    k = k if k is not None else threshold()
    label = suppressed_label(k)
    if len(rows) < k:
        raise TooFewRows(
            _(
                "The selection has fewer than %(k)d cases: it cannot be exported without "
                "letting someone recognise a student. Choose a longer period or a larger area."
            )
            % {"k": k},
            code="too_few",
        )
    out = [dict(row) for row in rows]
    cells = 0
    # 2. Rare values, column by column.
    for column in quasi_identifiers:
        counts = Counter(row[column] for row in out)
        hidden = {value for value, count in counts.items() if count < k and value != label}
        # 2b. Complementary suppression: when one value alone hides behind "< k", anyone who
        # knows the possible values (a district's two schools, the genders) can name it. Hide
        # the next rarest value with it, so "< k" always stands for at least two.
        if len(hidden) == 1:
            shown = sorted(
                (count, str(value))
                for value, count in counts.items()
                if value not in hidden and value != label
            )
            if shown:
                hidden.add(next(v for v in counts if str(v) == shown[0][1]))
        for row in out:
            if row[column] in hidden:
                row[column] = label
                cells += 1
    # 3. Rare combinations: give up the next column of the rows in a small class.
    for column in quasi_identifiers:
        combos = Counter(tuple(row[c] for c in quasi_identifiers) for row in out)
        small = [row for row in out if combos[tuple(row[c] for c in quasi_identifiers)] < k]
        if not small:
            break
        for row in small:
            if row[column] != label:
                row[column] = label
                cells += 1
    return Suppression(out, cells)
