"""Real-text mode: the loss mask, span removal, the loss-matched compute read-off, and (slow) a tiny end-to-end run.

The mask and removal checks run on a few real/dev documents where ``../shared/data`` exists (``FILTERKIT_SHARED_DATA``
points elsewhere) and on the suite's own text otherwise; the end-to-end run needs real/train and real/dev.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from filterkit.experiment.compute import (
    bootstrap_nx,
    interp_read_off,
    loss_matched,
    power_fit,
)
from filterkit.experiment.lm import IGNORE_INDEX, LMConfig, build_model, get_batch
from filterkit.experiment.masking import masked_memmap, span_removed, token_keep
from filterkit.experiment.tokens import tokenize_to_memmap, train_tokenizer
from tests.conftest import GENERAL, PROXY, ROOT, SHARED_DATA

DATA = Path(os.environ.get("FILTERKIT_SHARED_DATA", SHARED_DATA))
DEV = DATA / "real" / "dev.parquet"
needs_real = pytest.mark.skipif(
    not (DATA / "real" / "train.parquet").is_file() or not DEV.is_file(),
    reason="needs ../shared/data/real/{train,dev}.parquet (real labelled text)",
)


def _texts() -> list[str]:
    """Eight real/dev documents (four proxy) where the data is there, else the suite's own proxy/general text."""
    if DEV.is_file():
        import pyarrow.parquet as pq

        rows = pq.read_table(DEV, columns=["text", "label"]).to_pylist()
        pos = [r["text"][:600] for r in rows if r["label"] == 1][:4]
        neg = [r["text"][:600] for r in rows if r["label"] == 0][:4]
        return pos + neg
    return PROXY + GENERAL[:4]


def _spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    """The middle third of each proxy-half document (characters), none in the others: spans like a window's."""
    return [[(len(t) // 3, 2 * len(t) // 3)] if i < len(texts) // 2 else [] for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(_texts() * 3, 300)


def test_masked_corpus_has_the_unfiltered_tokens_and_masks_exactly_the_span_tokens(tok, tmp_path):
    texts, spans = _texts(), _spans(_texts())
    ids, keep = masked_memmap(texts, spans, tok, tmp_path / "m.bin")
    plain = tokenize_to_memmap(texts, tok, tmp_path / "p.bin")
    assert np.array_equal(ids, plain)  # masking changes which targets count, never the input
    pos = 0
    for text, sp in zip(texts, spans):
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        n = len(enc["input_ids"])
        for (a, b), k in zip(enc["offset_mapping"], keep[pos : pos + n]):
            inside = any(a < e and b > s for s, e in sp)
            assert bool(k) == (not inside)
        assert keep[pos + n] == 1  # the eos after each document keeps its loss
        pos += n + 1
    assert (keep == 0).sum() > 0


def test_loss_mask_zeroes_exactly_the_masked_tokens_loss(tok, tmp_path):
    texts, spans = _texts(), _spans(_texts())
    ids, keep = masked_memmap(texts, spans, tok, tmp_path / "m.bin")
    cfg = LMConfig(n_layer=1, n_head=2, n_embd=16, block_size=32, vocab_size=len(tok))
    model = build_model(cfg)
    x, y = get_batch(ids, 32, 8, np.random.default_rng(0), loss_mask=keep)
    _, y_plain = get_batch(ids, 32, 8, np.random.default_rng(0))
    masked = y == IGNORE_INDEX
    assert masked.any() and (~masked).any()
    assert torch.equal(y[~masked], y_plain[~masked])
    logits = model(input_ids=x).logits.float().transpose(1, 2)
    per_token = F.cross_entropy(logits, y, reduction="none")  # ignore_index -100 is torch's default
    full = F.cross_entropy(logits, y_plain, reduction="none")
    assert torch.all(per_token[masked] == 0)
    assert torch.allclose(per_token[~masked], full[~masked])
    # and the training loss is the mean over the unmasked targets only
    from filterkit.experiment.lm import _lm_loss

    assert _lm_loss(model, x, y, masked=True).item() == pytest.approx(full[~masked].mean().item(), rel=1e-5)


def test_span_removal_leaves_no_masked_character():
    texts, spans = _texts(), _spans(_texts())
    out = span_removed(texts, spans)
    assert len(out) == len(texts)
    for text, sp, left in zip(texts, spans, out):
        if not sp:
            assert left == text
            continue
        s, e = sp[0]
        assert left == " ".join(p for p in (text[:s].strip(), text[e:].strip()) if p)
        assert text[s:e].strip() not in left
        assert len(left) <= len(text) - (e - s) + 1


def test_token_keep_marks_partial_overlaps_as_masked():
    offsets = [(0, 3), (3, 7), (7, 10), (10, 14)]
    assert token_keep(offsets, [(5, 8)]).tolist() == [True, False, False, True]
    assert token_keep(offsets, []).all()


def _curve(c: np.ndarray) -> np.ndarray:
    return 2.0 + 10.0 * (c / 1e12) ** -0.3


def test_compute_read_off_returns_the_known_ratio_on_a_monotone_curve():
    budgets = np.array([1, 2, 4, 8, 16]) * 1e12
    losses = _curve(budgets)
    model_c = 8e12
    # a filtered model whose loss equals the baseline's at a quarter of its compute: N× = 4
    exact = loss_matched(budgets, losses, model_c, float(_curve(np.array([2e12]))[0]))
    assert exact["where"] == "inside" and exact["nx"] == pytest.approx(4.0)
    # between baselines the interpolation is linear in log compute, the power fit exact
    target = float(_curve(np.array([model_c / 3]))[0])
    assert loss_matched(budgets, losses, model_c, target)["nx"] == pytest.approx(3.0, rel=0.05)
    fit = power_fit(budgets, losses)
    assert fit is not None and fit["b"] == pytest.approx(0.3, rel=1e-3)
    assert loss_matched(budgets, losses, model_c, target, kind="power")["nx"] == pytest.approx(3.0, rel=1e-3)


def test_read_off_outside_the_baselines_is_a_bound_and_the_interval_brackets_the_ratio():
    budgets = np.array([1, 2, 4, 8, 16]) * 1e12
    losses = _curve(budgets)
    c, where = interp_read_off(budgets, losses, float(losses[0]) + 1)
    assert where == "below" and c == pytest.approx(budgets[0])
    assert interp_read_off(budgets, losses, float(losses[-1]) - 1)[1] == "above"
    # per-document losses scattered around the curve: the bootstrap interval contains the true ratio 4
    rng = np.random.default_rng(0)
    n = 400
    counts = np.full((5, n), 100)
    sums = (_curve(budgets)[:, None] + rng.normal(0, 0.05, size=(5, n))) * counts
    model = (float(_curve(np.array([2e12]))[0]) + rng.normal(0, 0.05, size=n)) * 100
    r = bootstrap_nx(sums, counts, budgets, model, np.full(n, 100), 8e12, "interp", 300, 0)
    assert r["ci95"][0] < 4.0 < r["ci95"][1]


@pytest.mark.slow
@needs_real
def test_tiny_real_run_end_to_end(tmp_path):
    from filterkit.experiment.config import experiment_config
    from filterkit.experiment.harness import run_experiment

    cfg = experiment_config(
        {
            "seeds": [0],
            "filter_pipeline": str(ROOT / "pipelines" / "biorisk.yaml"),
            "vocab_size": 300,
            "torch_threads": 1,
            "real": {
                "data_dir": str(DATA),
                "filter_docs": {"proxy": 15, "bio_med": 15, "general": 15},
                "corpus_docs": 60,
                "eval_docs": {"proxy": 8, "bio_med": 8, "general": 8},
                "tune_docs": {"proxy": 8, "bio_med": 4, "general": 4},
                "eval_max_tokens": 64,
                "bootstrap": 100,
                "relearn": {
                    "lrs": [0.003, 0.01, 0.03],
                    "steps": 6,
                    "eval_every": 3,
                    "eval_at": [],
                    "batch_size": 4,
                    "eval_docs": 4,
                },
            },
            "model": {
                "n_layer": 1,
                "n_head": 2,
                "n_embd": 16,
                "block_size": 32,
                "steps": 16,
                "warmup": 2,
                "batch_size": 4,
            },
        }
    )
    r = run_experiment(cfg, tmp_path / "exp")
    assert set(r["models"]) == {"none", "document", "masking", "span_removal", "oracle"}
    for m in r["models"].values():
        for d in ("forget", "retain", "collateral"):
            lo, hi = m[f"{d}_ci95"]
            assert lo <= m[d] <= hi
    assert len(r["baselines"]) == 5 and r["baselines"][-1]["tokens"] == 16 * r["baselines"][0]["tokens"]
    assert r["models"]["none"]["relearn"]["share"] == 0
    assert 0 <= r["filter"]["quality"]["recall"] <= 1
    report = (tmp_path / "exp" / "report.md").read_text()
    assert report.count("| span removal |") == 2  # the side-by-side table and the collateral N× table
    assert (tmp_path / "exp" / "compute.png").is_file()


def test_span_threshold_matches_the_document_filters_proxy_recall():
    import pyarrow as pa

    from filterkit.experiment.realfilter import choose_span_threshold

    tune = pa.table(
        {"id": ["a", "b", "c", "d"], "text": ["x" * 100] * 4, "group": ["proxy", "proxy", "proxy", "general"]}
    )
    # windows (start, end, score): the document filter at 0.5 removes a and b whole (2/3 of the proxy characters);
    # at window level that share needs every window of a and b, down to a's 0.2 window
    windows = {"a": [(0, 50, 0.9), (50, 100, 0.2)], "b": [(0, 100, 0.6)], "c": [(0, 100, 0.1)], "d": [(0, 100, 0.3)]}
    r = choose_span_threshold(tune, windows, "document", doc_threshold=0.5)
    assert r["target_recall"] == pytest.approx(2 / 3) and r["reached"]
    assert r["threshold"] == 0.2 and r["char_coverage"]["proxy"] == pytest.approx(2 / 3)
    assert r["char_coverage"]["general"] == 1.0  # d's 0.3 window is flagged too: the collateral is reported
    fixed = choose_span_threshold(tune, windows, 0.5, doc_threshold=0.5)
    assert fixed["threshold"] == 0.6  # a's first half and all of b: 1.5 of 3 documents
