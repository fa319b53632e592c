"""The encoder we drive batch by batch must give the model's own embeddings, and score long documents
over all their windows."""

from __future__ import annotations

import numpy as np
import pytest

from filterkit.classify.embedding import EmbeddingClassifier, shared_encoder
from filterkit.config import ScoringSpec
from tests.conftest import GENERAL, HEAD, PROXY

pytestmark = pytest.mark.slow  # loads and runs the real encoder on CPU: seconds per test on 2 cores


@pytest.fixture(scope="module")
def encoder():
    return shared_encoder(None, "cpu", 256, 2048, runtime="torch")  # ONNX Runtime: tests/classify/test_onnx.py


def test_matches_sentence_transformers_encode(encoder):
    from sentence_transformers import SentenceTransformer

    texts = PROXY[:2] + GENERAL[:2] + ["short", ""]
    ours = encoder.embed_texts(texts)
    st = SentenceTransformer(str(encoder.path), device="cpu")
    ref = st.encode(texts, normalize_embeddings=True)
    cos = (ours * ref).sum(1)
    assert cos.min() > 0.9999


def test_encoder_is_the_verified_packaged_model(encoder):
    from filterkit.classify.encoder import PACKAGED_ENCODER_SHA256

    assert encoder.sha256 == PACKAGED_ENCODER_SHA256 and encoder.dim == 384


def test_windows_and_token_batches(encoder):
    long_text = " ".join(GENERAL * 20)
    ch = encoder.chunk([long_text, "tiny"])
    n_long = sum(1 for o in ch.owner if o == 0)
    assert n_long > 3 and all(len(w) <= encoder.max_tokens for w in ch.windows)
    assert encoder.chunk([long_text], truncate=True).windows == ch.windows[:1]
    for batch in encoder.batches(ch.windows):
        assert len(batch) * max(len(ch.windows[i]) for i in batch) <= encoder.batch_tokens


def test_any_window_rule_catches_a_passage_deep_in_a_long_page():
    """A proxy paragraph after ~2,000 tokens of general text: chunked scoring removes, truncation misses."""
    page = " ".join(GENERAL * 12) + " " + " ".join(PROXY)
    chunks = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu"))
    trunc = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu", long_docs="truncate"))
    thr = chunks.info.threshold
    full = chunks.score([page])[0]
    first = trunc.score([page])[0]
    assert full.windows > 5 and first.windows == 1
    assert full.score >= thr > first.score


def test_head_separates_the_tiny_examples():
    clf = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu"))
    scores = np.array([s.score for s in clf.score(PROXY + GENERAL)])
    assert scores[: len(PROXY)].min() > scores[len(PROXY) :].max()


@pytest.mark.slow
def test_cpu_int8_fast_path_stays_close_to_fp32(encoder):
    """The opt-in int8 encoder: embeddings close to fp32 and the same decisions on the tiny examples."""
    q = shared_encoder(None, "cpu", 256, 2048, cpu_int8=True)
    assert q.int8 and not encoder.int8
    texts = PROXY + GENERAL
    cos = (q.embed_texts(texts) * encoder.embed_texts(texts)).sum(1)
    assert cos.min() > 0.9  # now ONNX Runtime per-channel int8 (0.97-0.99); torch.ao gave 0.915-0.956
    clf = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu", cpu_int8=True))
    scores = np.array([s.score for s in clf.score(texts)])
    thr = clf.info.threshold
    assert (scores[: len(PROXY)] >= thr).all() and (scores[len(PROXY) :] < thr).all()


@pytest.mark.slow
def test_gpu_shape_rounding_bounds_shapes_and_keeps_embeddings(encoder):
    """The GPU padding (lengths to a multiple, tail rows to a power of 2) must not change any embedding."""
    texts = [("word " * n).strip() for n in range(1, 120, 7)] * 3
    windows = encoder.chunk(texts).windows
    exact = encoder.embed_windows(windows)
    shapes = []
    try:
        encoder.pad_multiple = 32
        real_forward = encoder._forward
        encoder._forward = lambda ids, mask: (shapes.append(tuple(ids.shape)), real_forward(ids, mask))[1]
        rounded = encoder.embed_windows(windows)
    finally:
        encoder.pad_multiple = 1
        del encoder._forward
    np.testing.assert_allclose(rounded, exact, atol=1e-5)
    assert all(length % 32 == 0 for _, length in shapes)
    full = {length: 2048 // length for _, length in shapes}
    assert all(rows == full[length] or rows & (rows - 1) == 0 for rows, length in shapes)


def test_overlapped_scoring_equals_one_pass():
    """The GPU path (slices, tokenised one slice ahead in a thread) must give the one-pass scores in order."""
    clf = EmbeddingClassifier.load(HEAD, ScoringSpec(device="cpu"))
    texts = (PROXY + GENERAL) * 3 + [""]
    one = clf.score(texts)
    sliced = clf._score_overlapped(texts, slice_docs=4)
    assert [(s.windows, s.error) for s in sliced] == [(s.windows, s.error) for s in one]
    # other batch compositions round differently in the last float bits
    assert [s.score for s in sliced] == pytest.approx([s.score for s in one], abs=1e-5)


def test_long_documents_are_tokenised_in_blocks_with_the_same_windows(monkeypatch):
    """Block tokenisation (bounded memory; only the first window when truncating) gives the windows of
    tokenising the whole text."""
    from filterkit.classify import encoder as encoders
    from filterkit.classify.encoder import Encoder

    enc = Encoder(None, device="cpu", max_tokens=64, runtime="torch")
    text = " ".join(f"Paragraph {i}: bacteria, viruses and fungi\\tgrow;\\nthe café is open." for i in range(400))
    whole = enc.chunk([text])
    monkeypatch.setattr(encoders, "_BLOCK_CHARS", 997)  # many blocks, cut at whitespace
    assert enc.chunk([text]).windows == whole.windows
    first = enc.chunk([text, "short text"], truncate=True)
    assert first.windows[0] == whole.windows[0] and first.owner == [0, 1]
    calls = []
    real = enc.tokenizer.encode
    monkeypatch.setattr(
        enc,
        "tokenizer",
        type(
            "T",
            (),
            {
                "encode": lambda self, t, **k: calls.append(len(t)) or real(t, **k),
                "encode_batch": enc.tokenizer.encode_batch,
            },
        )(),
    )
    enc.chunk([text], truncate=True)
    assert sum(calls) < len(text) / 5  # only the first blocks were tokenised
