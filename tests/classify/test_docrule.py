"""The document rules over window scores give the scores written out by hand."""

import numpy as np
import pytest

from filterkit.classify.docrule import pool
from filterkit.errors import FilterkitError

# document 0: windows 0.9, 0.1, 0.2; document 1: one window 0.4; document 2: no window
PROBS = np.array([0.9, 0.4, 0.1, 0.2])
OWNER = np.array([0, 1, 0, 0])


@pytest.mark.parametrize(
    "rule,want",
    [
        ("max", [0.9, 0.4, -1.0]),
        ("top2", [(0.9 + 0.2) / 2, 0.4, -1.0]),  # the two best windows; a one-window document keeps its score
        ("mean", [(0.9 + 0.1 + 0.2) / 3, 0.4, -1.0]),
    ],
)
def test_rules_pool_windows_as_written(rule, want):
    assert pool(PROBS, OWNER, 3, rule) == pytest.approx(want)


def test_an_unknown_rule_is_refused():
    with pytest.raises(FilterkitError, match="unknown document rule"):
        pool(PROBS, OWNER, 3, "median")


@pytest.mark.slow
def test_a_folders_doc_rule_is_the_rule_a_run_applies(tmp_path):
    """The same head with ``doc_rule: mean`` in its config.json scores a long page as the mean of its windows."""
    import json
    import shutil

    from filterkit.classify.embedding import EmbeddingClassifier
    from filterkit.config import ScoringSpec
    from tests.conftest import GENERAL, HEAD, PROXY

    mean_head = tmp_path / "mean-head"
    shutil.copytree(HEAD, mean_head)
    cfg = json.loads((mean_head / "config.json").read_text())
    (mean_head / "config.json").write_text(json.dumps({**cfg, "doc_rule": "mean"}))
    page = " ".join(GENERAL * 6) + " " + " ".join(PROXY)
    spec = ScoringSpec(device="cpu", export_spans=True)
    by_max = EmbeddingClassifier.load(HEAD, spec).score([page])[0]
    by_mean = EmbeddingClassifier.load(mean_head, spec).score([page])[0]
    assert by_max.windows == by_mean.windows > 2
    assert by_max.window_scores == pytest.approx(by_mean.window_scores)
    assert by_max.score == pytest.approx(max(by_max.window_scores))
    assert by_mean.score == pytest.approx(sum(by_mean.window_scores) / len(by_mean.window_scores))
    assert by_mean.score < by_max.score  # one proxy passage in a long general page no longer decides alone


def test_a_bad_doc_rule_in_config_json_is_one_error(tmp_path):
    import json
    import shutil

    from filterkit.classify.registry import read_classifier_info
    from tests.conftest import HEAD

    bad = tmp_path / "bad-head"
    shutil.copytree(HEAD, bad)
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**cfg, "doc_rule": "median"}))
    with pytest.raises(FilterkitError, match="doc_rule"):
        read_classifier_info(bad)


def test_one_window_at_window_decides_scores_the_document_whatever_the_rule():
    """A long page whose one window reaches ``window_decides`` keeps that window's score under the mean."""
    probs = np.array([0.95, 0.1, 0.1, 0.1, 0.3, 0.3])
    owner = np.array([0, 0, 0, 0, 1, 1])
    assert pool(probs, owner, 2, "mean") == pytest.approx([0.3125, 0.3])
    assert pool(probs, owner, 2, "mean", window_decides=0.9) == pytest.approx([0.95, 0.3])
    assert pool(probs, owner, 2, "top2", window_decides=0.99) == pytest.approx([0.525, 0.3])


def test_window_decides_below_the_threshold_is_refused(tmp_path):
    import json
    import shutil

    from filterkit.classify.registry import read_classifier_info
    from tests.conftest import HEAD

    bad = tmp_path / "bad-head"
    shutil.copytree(HEAD, bad)
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**cfg, "doc_rule": "mean", "window_decides": cfg["threshold"] - 0.1}))
    with pytest.raises(FilterkitError, match="window_decides"):
        read_classifier_info(bad)
