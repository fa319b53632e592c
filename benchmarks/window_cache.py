"""Per-document MiniLM window embeddings on disk, shared by the head and document-rule benchmarks.

``filterkit train`` caches one file per *list* of texts, so adding 300 labelled web pages re-encodes
everything. Here every document is keyed by its own text (plus encoder hash and window length), and new
documents are embedded in slices written as they finish, so a run killed half-way keeps its work and a
second label file costs only its new texts. Windows are cut exactly as a run cuts them
(:meth:`filterkit.classify.encoder.Encoder.chunk`, the ONNX fp32 runtime on CPU, which gives torch's scores).

Cache folder: ``$FILTERKIT_WINDOW_CACHE`` or ``~/.cache/filterkit/windows``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from filterkit.errors import FilterkitError


def cache_folder() -> Path:
    return Path(os.environ.get("FILTERKIT_WINDOW_CACHE", Path.home() / ".cache" / "filterkit" / "windows"))


class WindowCache:
    """Window embeddings per (document text, window index); a document may be cached in part (its first windows),
    completed later without re-embedding what is there. Loading rescans the folder for shards written since."""

    def __init__(self, encoder=None, folder: str | Path | None = None, max_tokens: int = 256) -> None:
        self.folder = Path(folder) if folder is not None else cache_folder()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._encoder = encoder
        self.max_tokens = max_tokens
        self._seen: set[str] = set()
        self._index: dict[str, dict[int, tuple[int, int]]] = {}  # doc key -> window -> (shard, row)
        self._nwin: dict[str, int] = {}
        self._shards: list[np.ndarray] = []
        from filterkit.classify.encoder import PACKAGED_ENCODER_SHA256

        self.encoder_sha = PACKAGED_ENCODER_SHA256 if encoder is None else encoder.sha256
        self._scan()

    @property
    def encoder(self):
        if self._encoder is None:
            from filterkit.classify.encoder import Encoder

            self._encoder = Encoder(None, device="cpu", max_tokens=self.max_tokens)
        return self._encoder

    def key(self, text: str) -> str:
        h = hashlib.sha256(f"{self.encoder_sha}|{self.max_tokens}|".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:32]

    def _scan(self) -> None:
        for p in sorted(self.folder.glob("w-*.npz")):
            if p.name in self._seen:
                continue
            with np.load(p) as z:
                emb = z["emb"]
                if "widx" in z.files:  # one row per window: its document, index and the document's window count
                    keys, widx, nwin = z["keys"].tolist(), z["widx"], z["nwin"]
                else:  # whole documents: keys per document, windows starts[i]:starts[i+1]
                    starts = z["starts"]
                    keys, widx, nwin = [], [], []
                    for i, k in enumerate(z["keys"].tolist()):
                        n = int(starts[i + 1] - starts[i])
                        keys += [k] * n
                        widx += list(range(n))
                        nwin += [n] * n
            k = len(self._shards)
            self._shards.append(emb)
            for row, (key, w, n) in enumerate(zip(keys, widx, nwin)):
                self._index.setdefault(key, {})[int(w)] = (k, row)
                self._nwin[key] = int(n)
            self._seen.add(p.name)

    def _complete(self, key: str, cap: int | None) -> bool:
        if key not in self._nwin:
            return False
        need = self._nwin[key] if cap is None else min(cap, self._nwin[key])
        got = self._index.get(key, {})
        return all(w in got for w in range(need))

    def missing(self, texts: Sequence[str], cap: int | None = None) -> list[str]:
        self._scan()
        out: dict[str, str] = {}
        for t in texts:
            k = self.key(t)
            if not self._complete(k, cap):
                out[k] = t
        return list(out.values())

    def fill(self, texts: Sequence[str], slice_docs: int = 128, log: bool = True, cap: int | None = None) -> int:
        """Embed the windows not yet cached (the first ``cap`` of each document, or all), ``slice_docs`` documents
        per shard file; returns how many documents were touched."""
        todo = sorted(self.missing(texts, cap), key=len)  # short first: most documents are in early, slices pack well
        done = 0
        t0 = time.time()
        for i in range(0, len(todo), slice_docs):
            part = todo[i : i + slice_docs]
            ch = self.encoder.chunk(part)
            if ch.errors:
                j = min(ch.errors)
                raise FilterkitError(f"text {j} of a slice cannot be tokenised ({ch.errors[j]})")
            owner = np.asarray(ch.owner)
            keys = [self.key(t) for t in part]
            nwin = np.bincount(owner, minlength=len(part))
            widx = np.zeros(len(owner), dtype=np.int64)
            pick = []
            for j in range(len(owner)):
                widx[j] = 0 if j == 0 or owner[j] != owner[j - 1] else widx[j - 1] + 1
                k = keys[owner[j]]
                if (cap is None or widx[j] < cap) and widx[j] not in self._index.get(k, {}):
                    pick.append(j)
            pick = np.asarray(pick, dtype=np.int64)
            emb = self.encoder.embed_windows([ch.windows[j] for j in pick])
            name = f"w-{time.time_ns()}-{os.getpid()}.npz"
            tmp = self.folder / (name + ".tmp.npz")
            np.savez(
                tmp,
                keys=np.asarray([keys[owner[j]] for j in pick]),
                widx=widx[pick],
                nwin=nwin[owner[pick]],
                emb=emb.astype(np.float32),
            )
            tmp.replace(self.folder / name)
            self._scan()
            done += len(part)
            if log:
                rate = done / max(time.time() - t0, 1e-9)
                print(
                    f"  embedded {done}/{len(todo)} docs ({len(pick)} windows in the last slice, {rate:.2f} docs/s)",
                    flush=True,
                )
        return done

    def windows(self, texts: Sequence[str], cap: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(window embeddings, owner document index) for ``texts`` in text order, as ``Encoder.chunk`` cuts them:
        all windows of each document, or with ``cap`` its first ``cap`` (full documents are used whole)."""
        self._scan()
        rows, owners = [], []
        for i, t in enumerate(texts):
            k = self.key(t)
            if not self._complete(k, cap):
                raise FilterkitError(f"text {i} is not in the window cache {self.folder}; embed it first")
            got = self._index[k]
            n = self._nwin[k] if cap is None or self._complete(k, None) else min(cap, self._nwin[k])
            rows += [got[w] for w in range(n)]
            owners.append(np.full(n, i, dtype=np.int64))
        if not rows:
            return np.zeros((0, 384), dtype=np.float32), np.zeros(0, dtype=np.int64)
        emb = np.stack([self._shards[s][r] for s, r in rows])
        return emb, np.concatenate(owners)

    def has(self, texts: Sequence[str], cap: int | None = None) -> np.ndarray:
        self._scan()
        return np.asarray([self._complete(self.key(t), cap) for t in texts], dtype=bool)
