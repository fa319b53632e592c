"""The stratified estimator: weighting, readings, intervals and undefined metrics, each against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from filterkit.errors import FilterkitError
from filterkit.evaluate.estimate import LabelledDoc, estimate
from filterkit.evaluate.estimate_table import format_metric, table_rows


def rows(stratum: str, size: int, removed: bool | None, labels: list, group: str | None = None) -> list[dict]:
    return [dict(stratum=stratum, stratum_size=size, removed=removed, label=x, group=group) for x in labels]


# removed 20 (10 read: six 1, two 0.5, two 0), escalated-kept 100 (10 read: one 1, one 0.5, eight 0),
# not escalated 1,000 (10 read, all 0)
THREE = (
    rows("removed", 20, True, [1] * 6 + [0.5] * 2 + [0] * 2)
    + rows("escalated_kept", 100, False, [1, 0.5] + [0] * 8)
    + rows("not_escalated", 1000, False, [0] * 10)
)


def test_weighting_back_to_stratum_sizes_matches_the_hand_computation():
    e = estimate(THREE, n_boot=200)
    # strict (only 1 is proxy): proxy removed = 20 * 6/10 = 12; proxy kept = 100 * 1/10 + 1000 * 0/10 = 10
    #   precision = 12 / 20 = 0.6; recall = 12 / (12 + 10) = 0.5454...; proxy share = 22 / 1120
    #   non-proxy removed = (20 - 12) / 1120 = 0.00714...
    s = e.overall.strict
    assert s.precision.value == pytest.approx(12 / 20)
    assert s.recall.value == pytest.approx(12 / 22)
    assert s.proxy_share.value == pytest.approx(22 / 1120)
    assert s.nonproxy_removed_share.value == pytest.approx(8 / 1120)
    # lenient (0.5 and 1 are proxy): proxy removed = 20 * 8/10 = 16; proxy kept = 100 * 2/10 = 20
    #   precision = 16 / 20 = 0.8; recall = 16 / 36 = 0.444...; non-proxy removed = 4 / 1120
    le = e.overall.lenient
    assert le.precision.value == pytest.approx(16 / 20)
    assert le.recall.value == pytest.approx(16 / 36)
    assert le.nonproxy_removed_share.value == pytest.approx(4 / 1120)
    assert e.overall.removed_share.value == pytest.approx(20 / 1120)
    # a plain average over the 30 labels would say precision 0.6 but recall 6 / 7 = 0.857: the weighting matters
    assert s.recall.value < 0.6
    assert e.population == 1120 and e.labelled == 30 and e.overall.size == 1120 and e.overall.size_exact
    by = {c.name: c for c in e.strata}
    assert by["escalated_kept"].strict.proxy_share.value == pytest.approx(0.1)
    assert by["removed"].strict.precision.value == pytest.approx(0.6) and by["removed"].size == 20
    assert by["not_escalated"].strict.precision.value is None
    assert by["not_escalated"].strict.precision.undefined == "nothing removed"


def test_rows_may_be_dataclasses_or_mappings():
    docs = [LabelledDoc(**r) for r in THREE]
    assert estimate(docs, n_boot=50) == estimate(THREE, n_boot=50)


def test_a_stratum_read_in_full_adds_no_sampling_error_and_a_partial_one_does():
    # all 20 removals read (a census): precision 12/20 exactly, with an interval of width zero
    census = rows("removed", 20, True, [1] * 12 + [0] * 8) + rows("kept", 1000, False, [1] + [0] * 99)
    p = estimate(census, n_boot=500).overall.strict.precision
    assert p.value == pytest.approx(0.6) and p.ci95 == pytest.approx((0.6, 0.6))
    # 10 of 200 removals read: the same share, now with sampling error around it
    partial = rows("removed", 200, True, [1] * 6 + [0] * 4) + rows("kept", 1000, False, [1] + [0] * 99)
    p = estimate(partial, n_boot=500).overall.strict.precision
    lo, hi = p.ci95
    assert lo < 0.6 < hi and hi - lo > 0.3


def test_the_interval_has_the_width_the_stratified_variance_formula_gives():
    """Hand computation of the variance of a stratified proportion:
    V = sum_h (N_h / N)^2 (1 - n_h / N_h) s_h^2 / n_h, with s_h^2 = n_h / (n_h - 1) p_h (1 - p_h).
    Here A: N 400, n 40, p 0.25; B: N 600, n 60, p 0.1, so
    V = 0.4^2 * 0.9 * (40/39 * 0.1875) / 40 + 0.6^2 * 0.9 * (60/59 * 0.09) / 60 = 0.000692 + 0.000494 = 0.0011864,
    sd 0.03444; a 95% interval spans about 2 * 1.96 * sd = 0.135."""
    data = rows("A", 400, False, [1] * 10 + [0] * 30) + rows("B", 600, False, [1] * 6 + [0] * 54)
    share = estimate(data, n_boot=4000, seed=3).overall.strict.proxy_share
    assert share.value == pytest.approx(0.4 * 0.25 + 0.6 * 0.1)
    v = 0.4**2 * 0.9 * (40 / 39 * 0.1875) / 40 + 0.6**2 * 0.9 * (60 / 59 * 0.09) / 60
    assert v == pytest.approx(0.0011864, rel=1e-3)
    width = share.ci95[1] - share.ci95[0]
    assert width == pytest.approx(2 * 1.96 * math.sqrt(v), rel=0.05)


def test_more_labels_give_narrower_intervals_and_the_same_seed_the_same_ones():
    def width(n: int) -> float:
        ci = estimate(rows("removed", 10_000, True, [1] * (n // 2) + [0] * (n - n // 2)), n_boot=400).overall
        return ci.strict.precision.ci95[1] - ci.strict.precision.ci95[0]

    assert width(400) < width(100) < width(20)
    assert estimate(THREE, seed=7, n_boot=100) == estimate(THREE, seed=7, n_boot=100)
    assert estimate(THREE, seed=7, n_boot=100) != estimate(THREE, seed=8, n_boot=100)


def test_a_stratum_with_no_labels_leaves_only_what_it_cannot_change():
    # the kept stratum was sampled but nobody labelled it: precision (about removed documents only) stands,
    # recall and the proxy share do not
    e = estimate(rows("removed", 10, True, [1] * 6 + [0] * 4) + rows("kept", 100, False, [None] * 3), n_boot=100)
    assert e.overall.strict.precision.value == pytest.approx(0.6)
    assert e.overall.strict.nonproxy_removed_share.value == pytest.approx(4 / 110)
    assert e.overall.strict.recall.value is None and "kept" in e.overall.strict.recall.undefined
    assert e.overall.strict.proxy_share.value is None
    assert any("no labels in kept" in n for n in e.notes)
    # unlabelled removals: precision cannot be known either
    e = estimate(rows("removed", 10, True, [None]) + rows("kept", 100, False, [0] * 3), n_boot=100)
    assert e.overall.strict.precision.value is None and "holds removals" in e.overall.strict.precision.undefined
    assert e.overall.removed_share.value is None


def test_all_zero_labels_and_nothing_removed_are_undefined_not_a_crash():
    e = estimate(rows("removed", 10, True, [0] * 5) + rows("kept", 100, False, [0] * 5), n_boot=100)
    # no proxy document anywhere: recall is 0/0, reported as undefined; precision is a true 0 of 10 removals
    assert e.overall.strict.recall.value is None and e.overall.strict.recall.undefined == "no proxy labels"
    assert e.overall.lenient.recall.value is None
    assert e.overall.strict.precision.value == 0.0
    assert e.overall.strict.nonproxy_removed_share.value == pytest.approx(10 / 110)
    e = estimate(rows("kept", 100, False, [0] * 5), n_boot=100)
    assert e.overall.strict.precision.value is None and e.overall.strict.precision.undefined == "nothing removed"
    assert format_metric(e.overall.strict.precision) == "n/a (nothing removed)"
    assert all(len(r) == 7 for r in table_rows(e, "strict"))


def test_a_partly_read_stratum_with_labels_all_alike_is_flagged_with_its_upper_bound():
    e = estimate(THREE, n_boot=50)
    # 0 of 10 read in a stratum of 1,000: exact 95% upper bound 1 - 0.025^(1/10) = 0.3085, about 308 documents
    note = next(n for n in e.notes if n.startswith("not_escalated:"))
    assert "no proxy label in 10 of 1,000" in note and "0.308" in note and "308 documents" in note
    # only proxy labels among 5 of 50 removals read: precision 1.0 with no width; the bound 1 - 0.025^(1/5) = 0.522
    e = estimate(rows("removed", 50, True, [1] * 5) + rows("kept", 10, False, [0] * 10), n_boot=50)
    assert e.overall.strict.precision.value == 1.0
    note = next(n for n in e.notes if n.startswith("removed:"))
    assert "no non-proxy label in 5 of 50" in note and "0.522" in note
    assert not any(n.startswith("kept:") for n in e.notes)  # read in full: nothing unseen
    # one label only: no variance there, said so
    e = estimate(rows("removed", 10, True, [1]) + rows("kept", 100, False, [0, 1]), n_boot=50)
    assert any("one label only in removed" in n for n in e.notes)


def test_a_scope_estimates_for_part_of_the_pool_and_groups_cut_across_strata():
    """Removed: 20 in the pool, 10 read (5 of source a, all 1; 5 of b); kept: 200, 10 read (5 a, 5 b, all 0).
    Restricted to source a: removed a = 20 * 5/10 = 10 (all proxy), kept a = 200 * 5/10 = 100; size ~110.
    Rows of b still count in n_h (they were drawn with the stratum) but their decisions are not read."""
    data = (
        rows("removed", 20, True, [1] * 5, group="a")
        + rows("removed", 20, None, [0] * 5, group="b")
        + [r for g in "ab" for r in rows("kept", 200, False, [0] * 5, group=g)]
    )
    e = estimate(data, scope=["a"], n_boot=200)
    assert e.overall.size == pytest.approx(110) and not e.overall.size_exact
    assert e.overall.removed_share.value == pytest.approx(10 / 110)
    assert e.overall.strict.precision.value == 1.0 and e.overall.strict.recall.value == 1.0
    assert [g.name for g in e.groups] == ["a"] and e.labelled == 10
    with pytest.raises(FilterkitError, match="removed is null"):
        estimate(data, n_boot=10)  # without the scope, b's decisions are needed


def test_groups_without_a_scope_are_domains_of_the_whole_corpus():
    # removed 20: 10 read, 6 of group x (4 proxy), 4 of y (0 proxy); kept 100: 10 read, 5 x, 5 y, all 0
    data = (
        rows("removed", 20, True, [1] * 4 + [0] * 2, group="x")
        + rows("removed", 20, True, [0] * 4, group="y")
        + rows("kept", 100, False, [0] * 5, group="x")
        + rows("kept", 100, False, [0] * 5, group="y")
    )
    g = {c.name: c for c in estimate(data, n_boot=100).groups}
    # x: removed 20 * 6/10 = 12, of which proxy 20 * 4/10 = 8: precision 8/12; size 12 + 100 * 5/10 = 62
    assert g["x"].strict.precision.value == pytest.approx(8 / 12) and g["x"].size == pytest.approx(62)
    assert g["y"].strict.precision.value == 0.0


@pytest.mark.parametrize(
    "bad, message",
    [
        (rows("a", 10, True, [0.7]), "not one of 0, 0.5, 1"),
        (rows("a", 10, True, ["1"]), "not one of 0, 0.5, 1"),
        (rows("a", 10, True, [1]) + rows("a", 11, True, [1]), "two sizes"),
        (rows("a", 2, True, [1, 1, 0]), "3 labelled documents but a stratum size of 2"),
        (rows("a", 0, True, [1]), "not a positive whole number"),
        ([], "no rows"),
    ],
)
def test_bad_rows_are_one_clear_error(bad, message):
    with pytest.raises(FilterkitError, match=message):
        estimate(bad, n_boot=10)


def test_replicate_weights_keep_every_resample_defined_where_the_point_is():
    # two removed documents, one proxy: every resample keeps a positive weight on both (Rao-Wu weights are >= 0)
    e = estimate(rows("removed", 4, True, [1, 0]) + rows("kept", 10, False, [0, 0]), n_boot=300)
    lo, hi = e.overall.strict.precision.ci95
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert not np.isnan(lo)
