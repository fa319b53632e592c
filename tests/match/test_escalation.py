"""The cheap stage's decision: the length-aware term bar, the semantic gate, and one rule for run and tune."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filterkit.config import BlocklistConfig, SemanticGateConfig, config_from_dict
from filterkit.errors import FilterkitError
from filterkit.match.escalation import Escalator, escalate, term_bar
from filterkit.match.gate import StaticGate, read_gate_config
from filterkit.train.gate import train_gate

WORDS = [
    "[UNK]",
    "virus",
    "bacteria",
    "pathogen",
    "infection",
    "microbe",
    "outbreak",
    "vaccine",
    "the",
    "a",
    "of",
    "and",
    "market",
    "stocks",
    "bank",
    "game",
    "team",
    "season",
    "election",
    "river",
    "town",
    "song",
    "price",
]
TOPIC = WORDS[1:8]
OTHER = WORDS[12:]


@pytest.fixture(scope="module")
def static_model(tmp_path_factory):
    """A tiny model2vec model: topic words share a direction, so a linear head can learn them."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rng = np.random.default_rng(0)
    vec = rng.normal(scale=0.3, size=(len(WORDS), 8)).astype(np.float32)
    vec[1:8, 0] += 3.0
    vec[12:, 0] -= 3.0
    folder = tmp_path_factory.mktemp("static")
    StaticModel(vectors=vec, tokenizer=tok, normalize=True).save_pretrained(str(folder))
    return folder


def _docs(rng, n, topic: bool, length=8):
    pool = TOPIC if topic else OTHER
    return [" ".join(rng.choice(pool + ["the", "a", "of"], size=length)) for _ in range(n)]


@pytest.fixture(scope="module")
def gate_folder(static_model, tmp_path_factory):
    rng = np.random.default_rng(1)
    texts = _docs(rng, 40, True) + _docs(rng, 60, False)
    y = np.r_[np.ones(40), np.zeros(60)].astype(int)
    out = tmp_path_factory.mktemp("gate")
    cfg = train_gate(
        texts,
        y,
        out,
        static_model=static_model,
        groups=["proxy"] * 40 + ["general"] * 60,
        negatives_rate=0.05,
        window_words=6,
        folds=3,
    )
    assert cfg["training"]["cv"]["pr_auc"] > 0.95
    return out


def test_term_bar_is_length_aware():
    bl = BlocklistConfig(min_unique_hits=2, short_doc_words=50, short_min_unique_hits=1)
    assert term_bar(np.array([10, 49, 50, 4000]), bl).tolist() == [1, 1, 2, 2]
    assert term_bar(np.array([10, 4000]), BlocklistConfig(min_unique_hits=2)).tolist() == [2, 2]
    by_terms, esc = escalate(np.array([1, 1, 2, 0]), np.array([20, 200, 200, 20]), None, None, bl)
    assert by_terms.tolist() == esc.tolist() == [True, False, True, False]


def test_gate_escalates_below_the_bar_only():
    bl = BlocklistConfig(min_unique_hits=2)
    by_terms, esc = escalate(np.array([2, 0, 0]), np.array([9, 9, 9]), np.array([np.nan, 0.9, 0.1]), 0.5, bl)
    assert by_terms.tolist() == [True, False, False]
    assert esc.tolist() == [True, True, False]


def test_escalator_short_document_with_one_term(tmp_path):
    terms = tmp_path / "t.txt"
    terms.write_text("virus\nbacteria\n", encoding="utf-8")
    texts = ["Is a virus alive?", "the virus " + "word " * 100, "virus and bacteria " + "word " * 100, "nothing here"]
    plain = Escalator(BlocklistConfig(path=terms, min_unique_hits=2))
    assert plain(texts).escalated.tolist() == [False, False, True, False]
    short = Escalator(BlocklistConfig(path=terms, min_unique_hits=2, short_doc_words=40))
    e = short(texts)
    assert e.escalated.tolist() == [True, False, True, False]
    assert e.terms == {0: {"virus": 1}, 2: {"virus": 1, "bacteria": 1}}  # named only over the bar
    assert np.isnan(e.gate).all()  # no gate configured


def test_gate_scores_topic_above_other_and_windows_catch_a_buried_paragraph(gate_folder):
    gate = StaticGate.load(gate_folder)
    rng = np.random.default_rng(5)
    topic, other = _docs(rng, 20, True), _docs(rng, 20, False)
    s = gate.score(topic + other)
    assert s[:20].min() > s[20:].max()
    buried = " ".join(_docs(rng, 10, False, length=6)) + " " + topic[0]  # many windows of other text first
    whole = float(1 / (1 + np.exp(-(gate.embed([buried.lower()]) @ gate.weight + gate.bias)))[0])
    assert gate.score([buried])[0] >= gate.threshold > whole  # max over windows, not the diluted mean
    assert gate.score([""]).tolist() == [0.0]


def test_gate_folder_is_validated(tmp_path, gate_folder):
    with pytest.raises(FilterkitError, match="semantic gate not found"):
        read_gate_config(tmp_path)
    cfg = json.loads((gate_folder / "gate.json").read_text())
    assert set(cfg) >= {"threshold", "window_words", "training"}


def test_escalator_with_gate_and_obfuscated_text(tmp_path, gate_folder):
    terms = tmp_path / "t.txt"
    terms.write_text("virus\nbacteria\n", encoding="utf-8")
    esc = Escalator(BlocklistConfig(path=terms, min_unique_hits=2), SemanticGateConfig(enabled=True, path=gate_folder))
    texts = [
        "virus and bacteria",
        "pathogen outbreak infection microbe",
        "pаthоgen оutbreаk infectiоn microbe",
        "market stocks bank price",
    ]  # the third with Cyrillic а/о
    e = esc(texts)
    assert e.by_terms.tolist() == [True, False, False, False]
    assert np.isnan(e.gate[0]) and e.gate[1] == pytest.approx(e.gate[2])  # look-alikes folded before the gate
    assert e.escalated.tolist() == [True, True, True, False]


def test_gate_config_needs_escalate_mode():
    with pytest.raises(FilterkitError, match="semantic_gate escalates"):
        config_from_dict(
            {"semantic_gate": {"enabled": True}, "blocklist": {"mode": "remove"}, "classifier": {"enabled": False}}
        )


def test_run_escalates_by_gate_and_records_it(tmp_path, gate_folder):
    """End to end with the blocklist stage only deciding escalation (classifier replaced by a stub head would
    need the encoder): check the stage's metadata on a datatrove pipeline."""
    from datatrove.data import Document

    from filterkit import contract
    from filterkit.stages.blocklist import BlocklistStage

    terms = tmp_path / "t.txt"
    terms.write_text("virus\nbacteria\n", encoding="utf-8")
    stage = BlocklistStage(
        BlocklistConfig(path=terms, min_unique_hits=2),
        SemanticGateConfig(enabled=True, path=gate_folder),
        drop_removed=False,
    )
    docs = [
        Document(text=t, id=str(i), metadata={})
        for i, t in enumerate(["virus and bacteria", "pathogen outbreak infection microbe", "market stocks bank price"])
    ]
    out = list(stage.run(iter(docs)))
    meta = [d.metadata for d in out]
    assert [m[contract.ESCALATED] for m in meta] == [True, True, False]
    assert [m[contract.ESCALATED_BY] for m in meta] == ["terms", "gate", None]
    assert meta[0][contract.GATE_SCORE] is None and isinstance(meta[1][contract.GATE_SCORE], float)
    assert all(set(m) == set(meta[0]) for m in meta)  # one schema for every document


def test_train_gate_cli(tmp_path, static_model):
    from typer.testing import CliRunner

    from filterkit.cli import app

    rng = np.random.default_rng(2)
    texts = _docs(rng, 30, True) + _docs(rng, 30, False)
    f = tmp_path / "labels.parquet"
    pq.write_table(
        pa.table({"text": texts, "label": [1] * 30 + [0] * 30, "group": ["proxy"] * 30 + ["general"] * 30}), f
    )
    res = CliRunner().invoke(
        app,
        [
            "train-gate",
            "--labels",
            str(f),
            "--out",
            str(tmp_path / "g"),
            "--static-model",
            str(static_model),
            "--window-words",
            "6",
        ],
    )
    assert res.exit_code == 0, res.output
    assert StaticGate.load(tmp_path / "g").score(texts[:1])[0] > 0.5


def test_gate_only_documents_can_need_a_higher_classifier_score():
    from filterkit.contract import Rule

    rule = Rule(mode="escalate", classifier=True, threshold=0.6, gate_only_threshold=0.95, on_error="remove")
    assert rule.threshold_for("gate") == 0.95
    assert rule.threshold_for("terms") == 0.6
    assert rule.threshold_for(None) == 0.6  # no blocklist stage: every document is scored
    assert Rule(mode="escalate", classifier=True, threshold=0.6, on_error="remove").threshold_for("gate") == 0.6
