"""The document rules over window scores give the scores written out by hand."""

import numpy as np
import pytest

from filterkit.classify.docrule import pool
from filterkit.errors import FilterkitError

# document 0: windows 0.9, 0.1, 0.2; document 1: one window 0.4; document 2: no window
PROBS = np.array([0.9, 0.4, 0.1, 0.2])
OWNER = np.array([0, 1, 0, 0])


@pytest.mark.parametrize("rule,want", [
    ("max", [0.9, 0.4, -1.0]),
    ("top2", [(0.9 + 0.2) / 2, 0.4, -1.0]),   # the two best windows; a one-window document keeps its score
    ("mean", [(0.9 + 0.1 + 0.2) / 3, 0.4, -1.0]),
])
def test_rules_pool_windows_as_written(rule, want):
    assert pool(PROBS, OWNER, 3, rule) == pytest.approx(want)


def test_an_unknown_rule_is_refused():
    with pytest.raises(FilterkitError, match="unknown document rule"):
        pool(PROBS, OWNER, 3, "median")
