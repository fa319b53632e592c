"""Training a head on several labelled sources: loading, source balancing, the model card."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filterkit.data.labels import load_labelled_sets
from filterkit.train.cv import source_weights
from filterkit.train.embedding import train_head
from tests.conftest import GENERAL, PROXY


def test_source_weights_give_every_source_the_same_say_per_class():
    src = np.array(["a", "a", "a", "b", "a", "b", "b", "b"])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    w = source_weights(src, y)
    for cls in (0, 1):
        m = y == cls
        assert w[m].sum() == pytest.approx(m.sum())  # class totals unchanged
        assert w[m & (src == "a")].sum() == pytest.approx(w[m & (src == "b")].sum())


def _files(tmp_path):
    a = tmp_path / "a.parquet"
    pq.write_table(
        pa.table({"text": PROXY + GENERAL, "label": [1] * 4 + [0] * 6, "source": ["enc"] * 4 + ["news"] * 6}), a
    )
    q = tmp_path / "q.parquet"
    texts = [p.split(". ")[0] + "?" for p in PROXY] + [g.split(" ")[0] + " question?" for g in GENERAL]
    pq.write_table(pa.table({"text": texts, "label": [1] * 4 + [0] * 6, "split": ["train", "dev"] * 5}), q)
    return a, q


def test_labelled_sets_filter_by_split_and_name_sources(tmp_path):
    a, q = _files(tmp_path)
    ls = load_labelled_sets([a, q], split="train")
    assert len(ls.texts) == 10 + 5 and set(ls.sources) == {"enc", "news", f"{tmp_path.name}/q"}
    assert ls.files[f"{tmp_path.name}/q"]["rows"] == 5


@pytest.mark.slow
def test_train_head_on_several_files_with_source_balance(tmp_path):
    a, q = _files(tmp_path)
    out = tmp_path / "head"
    report = train_head([a, q], out, folds=2, split="train", balance="source", name="tiny")
    cfg = json.loads((out / "config.json").read_text())
    data = cfg["training"]["data"]
    assert data["balance"] == "source" and data["split"] == "train" and data["documents"] == 15
    assert set(data["files"]) == {f"{tmp_path.name}/a", f"{tmp_path.name}/q"}
    assert 0 < cfg["threshold"] < 1 and report["cv"]["roc_auc"] > 0.8
    card = (out / "MODEL_CARD.md").read_text()
    assert "| file | source | positives | negatives |" in card and "| enc | 4 | 0 |" in card
