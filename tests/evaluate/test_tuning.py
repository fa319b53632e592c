"""Threshold tuning: the pure metrics on hand-made scores, label-file errors, and one end-to-end tune()."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filterkit.contract import Rule
from filterkit.data.labels import load_labels
from filterkit.errors import FilterkitError
from filterkit.evaluate.metrics import (
    binary_metrics,
    bootstrap_ci,
    calibration_bins,
    expected_calibration_error,
    group_removal,
    max_f1_threshold,
    rates,
    threshold_for_recall,
)
from filterkit.evaluate.tune import cascade_metrics, tune
from tests.conftest import GENERAL, HEAD, PROXY, ROOT

PIPELINE = ROOT / "pipelines" / "biorisk.yaml"

# the hand example: positives score 0.9, 0.8, 0.2; negatives 0.7, 0.1
S = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
Y = np.array([1, 1, 0, 1, 0])


def write_labels(path: Path, texts: list[str], labels: list, groups: list[str] | None = None) -> Path:
    cols = {"text": pa.array(texts, pa.string()), "label": pa.array(labels, pa.int64())}
    if groups is not None:
        cols["group"] = pa.array(groups, pa.string())
    pq.write_table(pa.table(cols), path)
    return path


# ------------------------------------------------------------------------------------ pure metrics


def test_threshold_for_target_recall_by_hand():
    # recall 2/3 of 3 positives needs the 2nd-highest positive (0.8); the next lower score of any class is
    # the negative at 0.7, so the midpoint rule puts the threshold at 0.75
    t = threshold_for_recall(S, Y, 2 / 3)
    assert t == pytest.approx(0.75)
    m = binary_metrics(S, Y, t)
    assert (m["precision"], m["recall"], m["fpr"]) == (1.0, pytest.approx(2 / 3), 0.0)
    assert m["f1"] == pytest.approx(0.8)
    # full recall must reach the positive at 0.2: midway to the negative at 0.1
    assert threshold_for_recall(S, Y, 1.0) == pytest.approx(0.15)


def test_max_f1_threshold_by_hand():
    # F1 at t>=0.9: 0.5, >=0.8: 0.8, >=0.7: 0.667, >=0.2: 0.857, >=0.1: 0.75 -> 0.2, midway to 0.1
    assert max_f1_threshold(S, Y) == pytest.approx(0.15)
    # ties keep the higher threshold: >=0.9 and >=0.6 both give F1 = 2/3 here; 0.9 is midpointed to 0.85
    assert max_f1_threshold(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 0, 1])) == pytest.approx(0.85)


def test_rates_are_nan_when_undefined():
    r = rates(np.zeros(3, dtype=bool), np.array([0, 0, 1]))
    assert np.isnan(r["precision"]) and r["recall"] == 0.0 and r["fpr"] == 0.0
    assert np.isnan(rates(np.ones(2, dtype=bool), np.array([1, 1]))["fpr"])


def test_bootstrap_ci_contains_point_and_is_deterministic():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.4).astype(int)
    s = np.clip(0.35 * y + rng.random(200) * 0.65, 0, 1)
    t = threshold_for_recall(s, y, 0.9)
    point = rates(s >= t, y)

    def stat(idx):
        return rates(s[idx] >= t, y[idx])

    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = bootstrap_ci(stat, len(y), n_boot=300, seed=7)
    assert np.array_equal(np.random.get_state()[1], before), "must not touch the global random state"
    assert a == bootstrap_ci(stat, len(y), n_boot=300, seed=7)
    assert a != bootstrap_ci(stat, len(y), n_boot=300, seed=8)
    for k, (lo, hi) in a.items():
        assert lo <= point[k] <= hi, k
        assert hi - lo < 0.3, k


def test_bootstrap_ci_leaves_out_undefined_resamples():
    ci = bootstrap_ci(lambda idx: {"x": float("nan"), "y": float(idx[0] % 2)}, 10, n_boot=50, seed=0)
    assert ci["x"] is None and ci["y"] == [0.0, 1.0]


def test_calibration_ece_zero_when_bins_are_calibrated():
    # bin 2 (mean 0.25): 1 of 4 positive; bin 7 (mean 0.75): 3 of 4 positive
    s = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    bins = calibration_bins(s, y)
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 8
    assert (bins[2]["count"], bins[2]["frac_pos"]) == (4, 0.25)
    assert expected_calibration_error(bins) == pytest.approx(0.0)
    # all at 0.9 with half positive: off by 0.4 everywhere
    assert expected_calibration_error(calibration_bins(np.full(4, 0.9), np.array([1, 0, 1, 0]))) == pytest.approx(0.4)
    assert calibration_bins(np.array([1.0]), np.array([1]))[9]["count"] == 1  # 1.0 falls in the last bin
    assert calibration_bins(np.array([0.3]), np.array([1]))[3]["count"] == 1  # 0.3 is in [0.3, 0.4)
    above = calibration_bins(s, y, n_bins=1, lo=0.5)  # what a threshold at 0.5 removes
    assert above == [{"lo": 0.5, "hi": 1.0, "count": 4, "mean_score": 0.75, "frac_pos": 0.75}]


def test_group_removal_rates():
    g = group_removal(["a", "a", "b", None], np.array([1, 0, 0, 0]), np.array([True, False, True, False]))
    assert {k: g["a"][k] for k in ("n", "n_pos", "removed", "removal_rate")} == {
        "n": 2,
        "n_pos": 1,
        "removed": 1,
        "removal_rate": 0.5,
    }
    assert g["a"]["ci95"] == pytest.approx([0.0945, 0.9055], abs=1e-3)  # Wilson, 1 of 2
    assert g["b"]["removal_rate"] == 1.0 and g["(none)"]["removed"] == 0


def test_cascade_metrics_escalate_and_remove():
    y = np.array([1, 1, 1, 0, 0, 0])
    s = np.array([0.9, 0.9, 0.1, 0.9, 0.1, 0.1])
    u = np.array([3, 0, 2, 2, 2, 0])  # the second positive never reaches the classifier
    escalated_by = np.where(u >= 2, "terms", "none").astype(object)
    c = cascade_metrics(y, Rule(mode="escalate", classifier=True, threshold=0.5, on_error="remove"), escalated_by, s)
    assert c["escalation_recall"] == pytest.approx(2 / 3) and c["escalation_rate_neg"] == pytest.approx(2 / 3)
    assert (c["recall"], c["fpr"], c["precision"]) == (pytest.approx(1 / 3), pytest.approx(1 / 3), 0.5)
    r = cascade_metrics(y, Rule(mode="remove", classifier=False, threshold=0.5, on_error="remove"), escalated_by, s)
    assert r["recall"] == pytest.approx(2 / 3) and r["removed"] == 4
    assert cascade_metrics(y, Rule(mode="escalate", classifier=True, threshold=0.5, on_error="remove"), None, s)[
        "recall"
    ] == pytest.approx(2 / 3)  # no blocklist


# ---------------------------------------------------------------------------------- label-file errors


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], [0, 0], "no positives (label 1); a classifier needs both classes"),
        (["a", "b"], [1, 1], "no negatives (label 0); a classifier needs both classes"),
        (["a", "b"], [2, None], "no rows labelled 0 or 1"),
    ],
)
def test_labels_with_one_class_are_refused(tmp_path, texts, labels, message):
    path = write_labels(tmp_path / "l.parquet", texts, labels)
    with pytest.raises(FilterkitError, match=re.escape(message)) as e:
        load_labels(path)
    assert str(path) in e.value.message
    with pytest.raises(FilterkitError, match=re.escape(message)):  # before any model is loaded
        tune(path, HEAD, device="cpu")


def test_labels_without_label_column(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"text": ["a"], "y": [1]}), path)
    with pytest.raises(FilterkitError, match=re.escape("no 'label' column; a labels file needs `text` and `label`")):
        tune(path, HEAD, device="cpu")


def test_bad_target_recall(tmp_path):
    path = write_labels(tmp_path / "l.parquet", ["a", "b"], [0, 1])
    with pytest.raises(FilterkitError, match="target recall"):
        tune(path, HEAD, target_recall=0.0)


# ------------------------------------------------------------------------------------------ end to end

MORE_PROXY = [
    "Viruses replicate only inside living cells. The capsid protects the viral genome, and many viruses also "
    "carry a lipid envelope taken from the host cell membrane.",
    "Antibiotic resistance arises when bacteria acquire mutations or resistance genes; hospitals track resistant "
    "strains of pathogens to guide treatment.",
    "The immune system recognises pathogens through receptors that detect conserved microbial molecules, "
    "triggering inflammation and the production of antibodies.",
    "Epidemiologists model how an infectious disease spreads through a population using the basic reproduction "
    "number of the pathogen.",
]
BIOMED = [
    "The human heart has four chambers; the left ventricle pumps oxygenated blood through the aorta to the body.",
    "A balanced diet provides carbohydrates, proteins and fats, along with vitamins and minerals the body needs.",
    "Photosynthesis in plant leaves converts sunlight, water and carbon dioxide into glucose and oxygen.",
]
TRAPS = [
    "The computer virus spread through email attachments, and the antivirus vendor released a patch within a day.",
    "The video went viral overnight, spreading through social media feeds as millions of people copied the dance.",
    "The startup's culture was described as an incubator where ideas spread like a contagion between teams.",
]


@pytest.fixture
def labelled(tmp_path) -> Path:
    """20 documents in four groups; one row labelled 2 is ignored."""
    texts = PROXY + MORE_PROXY + GENERAL + BIOMED + TRAPS + ["unlabelled row"]
    labels = [1] * 8 + [0] * 12 + [2]
    groups = ["proxy"] * 8 + ["general"] * 6 + ["biomed_negative"] * 3 + ["lexical_trap"] * 3 + ["general"]
    return write_labels(tmp_path / "labels.parquet", texts, labels, groups)


@pytest.mark.slow
def test_tune_end_to_end(tmp_path, labelled):
    head = tmp_path / "head"
    shutil.copytree(HEAD, head)
    before = json.loads((head / "config.json").read_text())
    report = tmp_path / "report"
    res = tune(
        labelled,
        head,
        target_recall=0.9,
        pipeline=PIPELINE,
        report_dir=report,
        json_path=tmp_path / "tune.json",
        n_boot=200,
        seed=0,
        device="cpu",
    )

    for key in (
        "n_pos",
        "n_neg",
        "roc_auc",
        "pr_auc",
        "threshold",
        "precision",
        "recall",
        "fpr",
        "f1",
        "ci95",
        "max_f1",
        "groups",
        "ignored_rows",
        "errors",
        "cascade",
        "calibration",
    ):
        assert key in res, key
    assert (res["n_pos"], res["n_neg"], res["ignored_rows"], res["errors"]) == (8, 12, 1, 0)
    assert res["recall"] >= 0.9
    for k in ("roc_auc", "pr_auc", "precision", "recall", "fpr", "f1", "threshold"):
        lo, hi = res["ci95"][k]
        assert lo <= res[k] <= hi, k
    assert set(res["max_f1"]) >= {"threshold", "precision", "recall", "fpr", "f1", "ci95"}
    assert set(res["groups"]) == {"proxy", "general", "biomed_negative", "lexical_trap"}
    assert res["groups"]["proxy"]["removal_rate"] == pytest.approx(res["recall"])
    assert res["groups"]["proxy"]["cascade_removal_rate"] == pytest.approx(res["cascade"]["recall"])
    removed = sum(g["removed"] for g in res["groups"].values())
    assert res["calibration"]["above_threshold"]["count"] == removed
    assert sum(b["count"] for b in res["calibration"]["bins"]) == 20
    c = res["cascade"]
    assert set(c) >= {"recall", "fpr", "precision", "escalation_recall", "min_unique_hits", "ci95"}
    assert c["min_unique_hits"] == 1 and c["threshold"] == res["threshold"]  # the shipped bar
    assert c["recall"] <= min(c["escalation_recall"], res["recall"]) + 1e-12  # removal needs both stages
    assert json.loads((tmp_path / "tune.json").read_text()) == json.loads(json.dumps(res))

    for name in ("pr_curve.png", "roc_curve.png", "calibration.png", "score_hist.png"):
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"]({name})" in (report / "report.md").read_text()
    md = (report / "report.md").read_text()
    assert "lexical_trap" in md and "at the threshold tuned here" in md and "95% CI" in md
    assert json.loads((head / "config.json").read_text()) == before  # nothing written without write_threshold

    again = tune(
        labelled, head, target_recall=0.9, pipeline=PIPELINE, n_boot=200, seed=0, device="cpu", write_threshold=True
    )
    assert again["ci95"] == res["ci95"] and again["threshold"] == res["threshold"]  # deterministic per seed
    after = json.loads((head / "config.json").read_text())
    assert after["threshold"] == res["threshold"]
    assert "labels.parquet" in after["threshold_rule"] and "0.9" in after["threshold_rule"]
    from filterkit.classify.scoring_path import resolve_runtime

    assert after["tuned_runtime"] == "/".join(resolve_runtime("cpu")[1:])  # the runtime the threshold fits
    assert {k: v for k, v in after.items() if k not in ("threshold", "threshold_rule", "tuned_runtime")} == {
        k: v for k, v in before.items() if k not in ("threshold", "threshold_rule", "tuned_runtime")
    }
    assert sorted(p.name for p in head.iterdir()) == sorted(p.name for p in HEAD.iterdir())  # no tmp left
