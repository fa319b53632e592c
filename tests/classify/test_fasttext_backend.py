"""The fastText backend: training writes a loadable folder, scoring keeps the any-window rule, runs use it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filterkit.classify.fasttext import FastTextClassifier, windows
from filterkit.classify.registry import load_classifier
from filterkit.errors import FilterkitError
from filterkit.train.fasttext import train_fasttext
from tests.conftest import GENERAL, PROXY, ROOT, write_pipeline

TRAIN = ROOT / "sample_data" / "labelled" / "train.parquet"
# small enough to train (3 folds + final, quantised) in about two seconds on one core
FAST = {"folds": 3, "bucket": 1 << 16, "cutoff": 1000}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("ft") / "biorisk-ft"
    return folder, train_fasttext(TRAIN, folder, **FAST)


@pytest.mark.slow
def test_training_writes_config_model_and_card(trained):
    folder, result = trained
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.ftz", "MODEL_CARD.md"}
    cfg = json.loads((folder / "config.json").read_text())
    for key in ("name", "backend", "threshold", "threshold_rule", "labels", "window_words", "training"):
        assert key in cfg
    assert cfg["backend"] == "fasttext" and cfg["name"] == "biorisk-ft" and cfg["window_words"] == 200
    tr = cfg["training"]
    assert tr["data"]["documents"] == 240 and tr["data"]["positives"] == 90 and tr["folds"] == 3
    assert tr["hyperparameters"]["quantize"] is True and tr["hyperparameters"]["word_ngrams"] == 2
    assert 0 < cfg["threshold"] < 1 and result["cv"]["recall"] >= 0.95
    assert (folder / "model.ftz").stat().st_size < 1_000_000  # quantised, not bucket * dim floats
    assert "Cross-validated metrics" in (folder / "MODEL_CARD.md").read_text()


@pytest.mark.slow
def test_load_classifier_dispatches_and_separates(trained):
    folder, _ = trained
    clf = load_classifier(folder)
    assert isinstance(clf, FastTextClassifier)
    proxy = [s.score for s in clf.score(PROXY)]
    general = [s.score for s in clf.score(GENERAL)]
    assert min(proxy) > max(general)
    assert min(proxy) >= clf.info.threshold > max(general)


@pytest.mark.slow
def test_proxy_passage_at_the_end_of_a_long_page_is_caught(trained):
    clf = FastTextClassifier.load(trained[0])
    filler = "\n\n".join(GENERAL * 8)  # ~800 words of general text
    caught, clean = clf.score([filler + "\n\n" + " ".join(PROXY), filler])
    assert caught.windows >= 4 and caught.error is None
    assert caught.score >= clf.info.threshold > clean.score


def test_windows_are_near_equal_and_never_empty():
    assert windows("", 200) == [""]
    parts = windows(" ".join(["word"] * 210), 200)
    assert [len(p.split()) for p in parts] == [105, 105]  # no 10-word tail deciding the max alone
    assert windows("Influenza\nVIRUS, __label__1!", 200) == ["influenza virus label 1"]
    assert windows("ＤＮＡ Straße", 200) == ["dna strasse"]  # NFKC + casefold, as the blocklist matches


@pytest.mark.slow
def test_bad_document_gets_an_error_not_the_batch(trained):
    clf = FastTextClassifier.load(trained[0])
    ok, bad = clf.score([PROXY[0], None])  # type: ignore[list-item]
    assert ok.error is None and ok.score is not None
    assert bad.score is None and bad.windows == 0 and bad.error.startswith("fasttext:")


@pytest.mark.slow
def test_pickles_as_its_folder(trained):
    """Crossing a process boundary carries the folder path only (no model bytes), and reloads the same model."""
    clf = FastTextClassifier.load(trained[0])
    load, args = clf.__reduce__()
    assert args == (str(trained[0]),)
    again = load(*args)
    assert again.score(PROXY[:2]) == clf.score(PROXY[:2])


@pytest.mark.slow
def test_same_seed_same_model_and_scores(trained, tmp_path):
    folder, result = trained
    train_fasttext(TRAIN, tmp_path / "again", **FAST)
    assert (tmp_path / "again" / "model.ftz").read_bytes() == (folder / "model.ftz").read_bytes()
    again = json.loads((tmp_path / "again" / "config.json").read_text())
    assert again["threshold"] == result["config"]["threshold"]
    texts = PROXY + GENERAL
    assert FastTextClassifier.load(tmp_path / "again").score(texts) == FastTextClassifier.load(folder).score(texts)
    # and the seed matters (fastText alone maps seeds 0 and 1 to the same generator)
    train_fasttext(TRAIN, tmp_path / "seed1", **{**FAST, "folds": 2, "seed": 1})
    assert (tmp_path / "seed1" / "model.ftz").read_bytes() != (folder / "model.ftz").read_bytes()


@pytest.mark.slow
def test_missing_or_broken_model_file_is_a_filterkit_error(trained, tmp_path):
    folder = tmp_path / "ft"
    folder.mkdir()
    (folder / "config.json").write_text((trained[0] / "config.json").read_text())
    with pytest.raises(FilterkitError, match=r"model\.ftz"):
        load_classifier(folder)
    (folder / "model.ftz").write_bytes(b"not a fasttext model")
    with pytest.raises(FilterkitError, match=r"model\.ftz.*re-run `filterkit train --backend fasttext`"):
        FastTextClassifier.load(folder)


def test_training_rejects_single_class_labels(tmp_path):
    import pyarrow as pa

    labels = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"text": GENERAL, "label": [0] * len(GENERAL)}), labels)
    with pytest.raises(FilterkitError, match="no positives"):
        train_fasttext(labels, tmp_path / "out", **FAST)


@pytest.mark.slow
def test_pipeline_run_with_a_fasttext_classifier(trained, shards, tmp_path):
    import filterkit

    folder, _ = trained
    pipeline = write_pipeline(tmp_path / "p.yaml", classifier={"path": str(folder)})
    result = filterkit.run(shards, pipeline, tmp_path / "run")
    c = result.counts
    assert c["read"] == 13 and c["read"] == c["kept"] + c["removed"] and c["conservation_ok"]
    assert c["removed_classifier"] == 5 and c["kept"] == 8  # every proxy document, no general one
    kept = pq.read_table(tmp_path / "run" / "kept").column("text").to_pylist()
    assert not set(kept) & set(PROXY) and set(kept) == set(GENERAL)
    audit = pq.read_table(tmp_path / "run" / "audit")
    assert set(audit.column("classifier").to_pylist()) == {"biorisk-ft"}
    assert set(audit.column("reason").to_pylist()) == {"classifier_score"}
