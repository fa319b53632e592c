"""Classifier heads: small torch modules on top of sentence embeddings, stored as safetensors + JSON.

A classifier folder holds ``config.json`` (backend, head shape, encoder, max tokens, threshold, labels,
training summary) and ``head.safetensors``. Never pickle: a head is a few hundred floats, and a file a
user downloads must not be able to run code when loaded.

:class:`EmbeddingClassifier` joins the encoder and a head and scores whole documents with the
any-window rule: a document's score is the maximum over its windows, so one proxy passage in a long
page is enough to remove it (the rule Deep Ignorance used).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.classify.base import (
    CONFIG_FILE,
    HEAD_FILE,
    ClassifierInfo,
    DocScore,
    warn_runtime_mismatch,
)
from filterkit.classify.docrule import pool
from filterkit.classify.registry import read_classifier_info
from filterkit.config import ScoringSpec
from filterkit.errors import FilterkitError


def build_head(kind: str, dim: int, hidden: int = 0):
    """A logistic head (one linear layer) or a one-hidden-layer MLP, returning logits."""
    import torch.nn as nn

    if kind == "logistic":
        return nn.Sequential(nn.Linear(dim, 1))
    if kind == "mlp":
        if hidden < 1:
            raise FilterkitError("an mlp head needs hidden > 0")
        return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, 1))
    raise FilterkitError(f"unknown head kind {kind!r}; use logistic or mlp")


def save_head(folder: str | Path, module, config: dict[str, Any]) -> None:
    """Write ``head.safetensors`` and ``config.json`` into ``folder``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(tensors, str(folder / HEAD_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


_ENCODERS: dict[tuple, Any] = {}


def shared_encoder(
    path: str | Path | None,
    device: str,
    max_tokens: int,
    batch_tokens: int | None,
    cpu_int8: bool = False,
    runtime: str = "auto",
    precision: str = "fp32",
):
    """One encoder per process and setting: runs in one process (tests, experiments, notebooks) reuse it."""
    from filterkit.classify.encoder import Encoder
    from filterkit.classify.scoring_path import resolve_runtime

    device, runtime, precision = resolve_runtime(device, runtime, precision, cpu_int8)
    key = (str(path) if path is not None else None, device, max_tokens, batch_tokens, runtime, precision)
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder(
            path, device=device, max_tokens=max_tokens, batch_tokens=batch_tokens, runtime=runtime, precision=precision
        )
    return _ENCODERS[key]


@dataclass
class EmbeddingClassifier:
    """Encoder + head. Build in a worker's setup; scoring is batch-first."""

    info: ClassifierInfo
    encoder: Any
    head: Any
    truncate: bool = False
    export_spans: bool = False  # keep each window's probability (ScoringSpec.export_spans), not only the pooled score
    stats: dict[str, float] = field(default_factory=lambda: {"windows": 0, "tokens": 0})

    @classmethod
    def load(cls, folder: str | Path, spec: ScoringSpec | None = None) -> EmbeddingClassifier:
        from safetensors.torch import load_file

        spec = spec or ScoringSpec()
        info = read_classifier_info(folder)
        fc = info.folder
        encoder = shared_encoder(
            spec.encoder_path,
            spec.device,
            int(spec.max_tokens or fc.max_tokens),
            spec.batch_tokens,
            spec.cpu_int8,
            spec.runtime,
            spec.precision,
        )
        warn_runtime_mismatch(info, encoder.runtime, encoder.precision)
        if encoder.dim != fc.dim:
            raise FilterkitError(
                f"{info.path}: head expects {fc.dim}-d embeddings but the encoder gives {encoder.dim}-d; "
                "use the encoder the head was trained with"
            )
        assert fc.head is not None and fc.dim is not None  # FolderConfig._embedding_keys requires both
        head = build_head(fc.head, fc.dim, fc.hidden)
        try:
            head.load_state_dict(load_file(str(info.path / HEAD_FILE)))
        except Exception as e:  # noqa: BLE001
            raise FilterkitError(f"{info.path / HEAD_FILE}: does not match config.json ({e}); re-train") from None
        head.eval().to(encoder.device)
        return cls(info, encoder, head, spec.truncate, spec.export_spans)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Head probabilities for a matrix of embeddings."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(embeddings)).to(self.encoder.device)
            return torch.sigmoid(self.head(x).squeeze(-1)).float().cpu().numpy()

    def score(self, texts: Sequence[str], slice_docs: int = 4096) -> list[DocScore]:
        """Score documents; a window-level error only affects its own document.

        On a GPU a long list is cut into slices and a worker thread tokenises slice k+1 while this thread
        queues slice k's batches (the tokenizer releases the GIL), so host work overlaps device work. On a
        H100 tokenising and queueing were the whole cost (benchmarks/classifier_bench.py).
        """
        if self.encoder.device == "cpu" or len(texts) <= slice_docs:
            return self.collect(self.submit(texts))
        return self._score_overlapped(texts, slice_docs)

    def _score_overlapped(self, texts: Sequence[str], slice_docs: int) -> list[DocScore]:
        from concurrent.futures import ThreadPoolExecutor

        parts = [texts[i : i + slice_docs] for i in range(0, len(texts), slice_docs)]
        out: list[DocScore] = []
        pending = None
        with ThreadPoolExecutor(1) as pool:
            chunked = pool.submit(self.encoder.chunk, parts[0], self.truncate)
            for k, part in enumerate(parts):
                ch = chunked.result()
                if k + 1 < len(parts):
                    chunked = pool.submit(self.encoder.chunk, parts[k + 1], self.truncate)
                queued = self._launch(len(part), ch)
                if pending is not None:
                    out.extend(self.collect(pending))
                pending = queued
            out.extend(self.collect(pending))
        return out

    def window_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans, in ``text`` as read, of the windows :meth:`score` cut it into (same order)."""
        return self.encoder.window_char_spans(text, self.truncate)

    def submit(self, texts: Sequence[str]) -> Any:
        """Tokenise and queue the encoder work for ``texts``; :meth:`collect` finishes it.

        The classifier stage submits batch N+1 before collecting batch N, so on a GPU the device is never
        idle while the host reads, tokenises and writes (see ``ClassifierStage.process``).
        """
        return self._launch(len(texts), self.encoder.chunk(texts, truncate=self.truncate))

    def _launch(self, n: int, ch: Any) -> Any:
        return n, ch, (self.encoder.launch(ch.windows) if ch.windows else None)

    def collect(self, pending: Any) -> list[DocScore]:
        """The scores of a :meth:`submit`, in input order."""
        n, ch, launched = pending
        results: list[DocScore | None] = [None] * n
        for i, err in ch.errors.items():
            results[i] = DocScore(None, 0, err)
        if launched is not None:
            probs = self.probabilities(self.encoder.gather(launched))
            self.stats["windows"] += len(ch.windows)
            self.stats["tokens"] += sum(len(w) for w in ch.windows)
            owner = np.asarray(ch.owner)
            best = pool(probs, owner, n, self.info.folder.doc_rule, self.info.folder.window_decides)
            count = np.bincount(owner, minlength=n)
            per_doc: dict[int, list[float]] = {}
            if self.export_spans:  # windows are in text order within each document (Encoder.chunk)
                for o, p in zip(ch.owner, probs.tolist()):
                    per_doc.setdefault(o, []).append(p)
            for i in range(n):
                if results[i] is None:
                    ws = tuple(per_doc[i]) if i in per_doc else None
                    results[i] = DocScore(float(best[i]), int(count[i]), None, ws)
        return [r if r is not None else DocScore(None, 0, "no windows") for r in results]
