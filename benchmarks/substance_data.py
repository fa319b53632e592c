"""The labelled sets of the substance benchmark (benchmarks/substance_bench.py), read once, each document with
its label, source, split and what the cheap stage made of it.

Texts never live in this repository: real/ and web/ come from ``../shared/data``, the extra styles from their
rebuilt parquet (labels/extra/rebuild.py), and labels by id from jsonl files. A web label is the consensus of its
readers (mean rounded to 0, 0.5 or 1, disagreement between 0 and 1 reads as 0.5), as the web section of
quality_bench reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout, or FILTERKIT_SHARED_DATA (a worktree elsewhere)
SHARED = Path(os.environ.get("FILTERKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


@dataclass
class DocSet:
    """Documents of one kind. ``y``: 0, 0.5, 1, or NaN (unlabelled); ``split``: train / dev / "" (unused)."""

    name: str
    ids: list[str]
    texts: list[str]
    y: np.ndarray
    source: np.ndarray
    group: np.ndarray
    split: np.ndarray
    cheap: dict[str, np.ndarray] = field(default_factory=dict)  # unique, total, words, gate, by_terms, escalated

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, mask: np.ndarray, name: str | None = None) -> DocSet:
        idx = np.flatnonzero(mask)
        return DocSet(
            name or self.name,
            [self.ids[i] for i in idx],
            [self.texts[i] for i in idx],
            self.y[idx],
            self.source[idx],
            self.group[idx],
            self.split[idx],
            {k: v[idx] for k, v in self.cheap.items()},
        )

    def verdict(self) -> np.ndarray:
        """The cheap stage's verdict per document, as :func:`filterkit.contract.decide_many` reads it."""
        from filterkit.match.escalation import escalated_by

        return escalated_by(self.cheap["by_terms"], self.cheap["escalated"])


def consensus(labels: list[float]) -> float:
    m = sum(labels) / len(labels)
    return 0.0 if m < 0.25 else 1.0 if m > 0.75 else 0.5


def read_jsonl_labels(paths: list[Path]) -> dict[str, float]:
    """id -> consensus label over every row of every file (a missing file adds nothing)."""
    seen: dict[str, list[float]] = {}
    for p in paths:
        if not p.is_file():
            continue
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("label") in (0, 0.5, 1):
                    seen.setdefault(str(r["id"]), []).append(float(r["label"]))
                if isinstance(r.get("second"), dict) and r["second"].get("label") in (0, 0.5, 1):
                    seen[str(r["id"])].append(float(r["second"]["label"]))
    return {k: consensus(v) for k, v in seen.items()}


def frame(name: str, df, split=None) -> DocSet:
    """A pandas frame (text and, where present, id, label, split, source, group columns) as a :class:`DocSet`."""
    n = len(df)
    col = lambda c, d: df[c].astype(str).to_numpy() if c in df else np.full(n, d, dtype=object)  # noqa: E731
    y = df["label"].to_numpy(dtype=float) if "label" in df else np.full(n, np.nan)
    sp = col("split", split or "")
    return DocSet(name, col("id", "").tolist(), df["text"].tolist(), y, col("source", name), col("group", ""), sp)


def real(name: str, split: str | None = None) -> DocSet:
    df = pq.read_table(SHARED / "real" / f"{name}.parquet").to_pandas()
    if name == "questions":
        return frame("questions", df)
    return frame(f"real_{name}", df, split)


def team_train() -> DocSet:
    df = pq.read_table(ROOT / "sample_data" / "labelled" / "train.parquet").to_pandas()
    s = frame("team", df, "train")
    s.source[:] = "labelled/train"
    return s


def extra(parquet: Path, label_files: list[Path]) -> DocSet:
    """The extra-style documents that have a label; each ``source`` a style family (its parquet column)."""
    df = pq.read_table(parquet).to_pandas()
    lab = read_jsonl_labels(label_files)
    df = df[df["id"].astype(str).isin(lab)].reset_index(drop=True)
    df["label"] = [lab[str(i)] for i in df["id"]]
    s = frame("extra", df, "train")
    s.source = np.asarray([f"extra/{x}" for x in df["source"]], dtype=object)
    s.group = df["style"].astype(str).to_numpy()
    return s


def web(web_dir: Path, labels: Path, split_file: Path | None) -> DocSet:
    """Every document of the web pool; ``y`` NaN where unread, ``source`` its file, ``split`` from ``split_file``
    (``{"train": [files], "dev": [files]}`` or ``{file: split}``)."""
    import pandas as pd

    frames = []
    for f in sorted(web_dir.glob("*.parquet")):
        d = pq.read_table(f, columns=["id", "text"]).to_pandas()
        d["source"] = f.stem
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    lab = read_jsonl_labels([labels])
    df["label"] = [lab.get(str(i), np.nan) for i in df["id"]]
    split = {}
    if split_file is not None and split_file.is_file():
        raw = json.loads(split_file.read_text())
        if isinstance(raw, dict) and set(raw) >= {"train", "dev"} and isinstance(raw["train"], list):
            split = {f: k for k in ("train", "dev") for f in raw[k]}
        elif isinstance(raw, dict) and "split" in raw and isinstance(raw["split"], dict):
            split = {str(k): str(v) for k, v in raw["split"].items()}
        else:
            split = {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}
    df["split"] = [split.get(s, "") for s in df["source"]]
    out = frame("web", df)
    out.group = np.full(len(df), "web", dtype=object)
    return out


def with_cheap(s: DocSet, esc, cache: Path, key: str) -> DocSet:
    """Attach the cheap stage's findings (``Escalator`` output), cached per texts and cheap-stage config."""
    h = hashlib.sha256(key.encode())
    for t in s.texts:
        h.update(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest())
    path = cache / f"cheap-{h.hexdigest()[:24]}.npz"
    if not path.is_file():
        e = esc(s.texts)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp, unique=e.unique, total=e.total, words=e.words, gate=e.gate, by_terms=e.by_terms, escalated=e.escalated
        )
        tmp.replace(path)
    with np.load(path) as z:
        s.cheap = {k: z[k] for k in z.files}
    return s
