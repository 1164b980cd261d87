"""The small-count rule: no cell under the threshold visible, none derivable from totals."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reports.suppression import (
    Count,
    PlaceTree,
    count_of_group,
    hidden_below,
    line,
    percent2,
    share,
)

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


def _tree(kind, districts):
    """districts: {district id: [school ids]}"""
    return PlaceTree(kind, {s: d for d, schools in districts.items() for s in schools})


def test_a_district_figure_that_would_give_one_small_school_away_is_hidden():
    district = _tree("district", {1: [10, 11]})
    assert hidden_below({10: 8, 11: 1}, district, k=K)  # 9 − 8 = the one at school 11
    assert not hidden_below({10: 8, 11: 0}, district, k=K)  # "none" gives no one away
    assert hidden_below({10: 8, 11: 3, 12: 0}, _tree("district", {1: [10, 11, 12]}), k=K)
    assert not hidden_below({10: 20, 11: 3, 12: 4}, _tree("district", {1: [10, 11, 12]}), k=K)
    assert hidden_below({10: 20, 11: 1, 12: 2}, _tree("district", {1: [10, 11, 12]}), k=K)
    assert not hidden_below({10: 1}, _tree("school", {1: [10]}), k=K)


def test_a_municipality_figure_protects_a_district_that_protects_a_school():
    # District 1 is hidden (its school 11 would be given away); alone among the districts,
    # the municipality's figure minus district 2's would give district 1 away, and with it
    # school 11.
    town = _tree("municipality", {1: [10, 11], 2: [20]})
    assert hidden_below({10: 8, 11: 1, 20: 30}, town, k=K)
    # Two hidden districts that hold five or more together: nothing can be worked out.
    town = _tree("municipality", {1: [10, 11], 2: [20, 21]})
    assert not hidden_below({10: 8, 11: 1, 20: 30, 21: 2}, town, k=K)


@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_no_small_school_figure_follows_from_shown_figures_of_other_reports(districts):
    """Whatever a manager of the municipality can open (the municipality's, each district's
    and each school's figure, each shown or hidden by its own rules), the hidden figure of a
    school never follows from shown ones by subtraction."""
    ids = iter(range(1000))
    tree = {d: [next(ids) for _ in schools] for d, schools in enumerate(districts)}
    values = {
        s: v for d, schools in enumerate(districts) for s, v in zip(tree[d], schools, strict=True)
    }
    town_shown = (
        not hidden_below(values, _tree("municipality", tree), k=K) and sum(values.values()) >= K
    )
    # A district's figure is shown unless it is small or rule 4 hides it; a district with no
    # students at all gives no one away and counts as shown.
    district_shown = {
        d: not hidden_below({s: values[s] for s in tree[d]}, _tree("district", {d: tree[d]}), k=K)
        and not 0 < sum(values[s] for s in tree[d]) < K
        for d in tree
    }
    for d, schools in tree.items():
        hidden = [s for s in schools if 0 < values[s] < K]
        if district_shown[d] and hidden:
            # The district's figure minus its shown schools: the hidden schools' sum only.
            assert len(hidden) >= 2 and sum(values[s] for s in hidden) >= K
        if town_shown and not district_shown[d]:
            others_hidden = [o for o in tree if o != d and not district_shown[o]]
            hidden_sum = sum(values[s] for o in [d, *others_hidden] for s in tree[o])
            assert others_hidden and hidden_sum >= K
