"""The small-count rule: no cell under the threshold visible, none derivable from totals."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reports.suppression import Count, count_of_group, line, percent2, share

K = 5


def test_a_lone_small_cell_takes_the_next_smallest_with_it():
    cells = line([12, 3, 40, 9], k=K)
    assert [c.suppressed for c in cells] == [False, True, False, True]
    assert [c.label() for c in cells] == ["12", "< 5", "40", "< 5"]


def test_two_small_cells_that_add_up_to_less_than_k_take_a_third():
    # 1 + 2 = 3 hidden: with the total shown a reader knows the two hold 3 together.
    cells = line([1, 2, 30, 7], k=K)
    assert [c.suppressed for c in cells] == [True, True, False, True]


def test_a_total_below_k_hides_the_whole_line():
    assert all(c.suppressed for c in line([1, 2, 1], k=K))


def test_a_share_is_hidden_with_its_count_and_when_nearly_all_are_in_it():
    assert count_of_group(3, 40, k=K).suppressed
    assert count_of_group(37, 40, k=K).suppressed  # three are not: they are singled out
    assert not count_of_group(35, 40, k=K).suppressed
    assert count_of_group(0, 40, k=K).suppressed  # "none of them" is a small count too
    assert share(count_of_group(3, 40, k=K), 40).label() == "< 5"
    assert share(count_of_group(10, 40, k=K), 40).label() == "25,00"
    assert percent2(1, 3) == Decimal("33.33") and percent2(2, 3) == Decimal("66.67")


@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8))
def test_no_small_cell_is_visible_or_derivable_from_the_total(values):
    cells = line(values, k=K)
    total = sum(values)
    for value, cell in zip(values, cells, strict=True):
        assert isinstance(cell, Count) and cell.value == value
        if value < K:
            assert cell.suppressed
    hidden = [c.value for c in cells if c.suppressed]
    if hidden and len(hidden) < len(cells):
        # The reader knows the hidden cells' sum (total minus the shown ones): it must not
        # pin any of them down — at least two cells share it and it is not small.
        assert len(hidden) >= 2 and sum(hidden) >= K
    if total < K:
        assert all(c.suppressed for c in cells)
