"""The gate's per-word static embeddings equal model2vec's own ``encode`` on the shipped gate model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from filterkit.match import static_embed
from filterkit.match.blocklist import normalize
from filterkit.match.gate import StaticGate, gate_windows

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "classifiers" / "biorisk-proxy-static"

ODD = [
    "",
    "   ",
    "a_b c-d e.f (g) [h] {i} 'j' \"k\" ~l` @m #n $o %p ^q &r *s +t =u |v \\w /x <y> ?z !",
    "covid-19 h5n1 2019 3.5% $1,000 v1ru5 b4ct3r14",
    "x" * 150 + " pneumonoultramicroscopicsilicovolcanoconiosis " + "ab" * 60,
    "café naïve influenza vírus",  # non-ASCII: model2vec's own path
    "tab\tand\x01control\x7fchars",  # control characters: model2vec's own path
    "日本語 and 中文 text",
    "UPPER Case Stays Equal After Lowering",
]


@pytest.fixture(scope="module")
def gate() -> StaticGate:
    return StaticGate.load(GATE)


def _reference(gate: StaticGate, texts: list[str]) -> np.ndarray:
    return np.asarray(gate.model.encode(texts, use_multiprocessing=False, max_length=None), dtype=np.float32)


def _windows() -> list[str]:
    texts: list[str] = []
    for f in sorted((ROOT / "sample_data" / "shards").glob("*.parquet"))[:2]:
        texts += pq.read_table(f, columns=["text"]).column("text").to_pylist()[:400]
    return gate_windows(texts, 256)[0] + ODD + [normalize(t) for t in ODD]


def test_the_fast_path_applies_to_the_shipped_gate(gate: StaticGate) -> None:
    assert static_embed.StaticEmbedder(gate.model).fast


def test_embeddings_and_scores_equal_model2vec(gate: StaticGate) -> None:
    windows = _windows()
    ours = gate.embed(windows)
    ref = _reference(gate, windows)
    assert ours.shape == ref.shape
    # model2vec averages float16 vectors, the cache float32 ones: the same tokens, rounding apart
    np.testing.assert_allclose(ours, ref, atol=2e-3)
    p_ours = 1 / (1 + np.exp(-(ours @ gate.weight + gate.bias)))
    p_ref = 1 / (1 + np.exp(-(ref @ gate.weight + gate.bias)))
    assert np.abs(p_ours - p_ref).max() < 2e-3
    assert not ours[windows.index("")].any()  # an empty text embeds to zeros, as in model2vec


def test_the_fast_path_tokenises_exactly_as_the_tokenizer(gate: StaticGate) -> None:
    unk = gate.model.unk_token_id
    for text in _windows():
        if not text.isascii() or static_embed._CONTROL.search(text):
            continue
        whole = [i for i in gate.model.tokenizer.encode(text, add_special_tokens=False).ids if i != unk]
        words = static_embed._ASCII_WORDS.findall(text.lower())
        per_word = [i for w in words for i in gate.model.tokenizer.encode(w, add_special_tokens=False).ids if i != unk]
        assert per_word == whole, text[:80]


def test_a_full_cache_starts_over_without_changing_results(gate: StaticGate, monkeypatch) -> None:
    windows = _windows()
    expected = static_embed.StaticEmbedder(gate.model).embed(windows)
    monkeypatch.setattr(static_embed, "_MAX_WORDS", 50)
    small = static_embed.StaticEmbedder(gate.model)
    np.testing.assert_array_equal(small.embed(windows[:30]), expected[:30])
    np.testing.assert_array_equal(small.embed(windows), expected)
    assert len(small._index) <= max(50, len(set(" ".join(windows).split())) + 100)


def test_a_model_outside_the_fast_path_uses_model2vec_for_everything(gate: StaticGate) -> None:
    emb = static_embed.StaticEmbedder(gate.model)
    emb.fast = False  # as for a model with token weights or another tokenizer
    windows = _windows()[:50]
    np.testing.assert_array_equal(emb.embed(windows), _reference(gate, windows))
