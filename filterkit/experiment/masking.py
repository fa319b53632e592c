"""Token-level filtering from character spans: a loss mask (the tokens stay in the input and get no loss) and
span removal (the characters are cut out before tokenising).

A token is masked when its characters overlap a flagged span at all, so a span's edges never leak a partial
word into the loss. The masked corpus is tokenised exactly as :func:`tokens.tokenize_to_memmap` tokenises the
unfiltered one (same ids, same eos after each document), so masking changes only which targets count.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.experiment.spans import remove_spans

Span = tuple[int, int]


def token_keep(offsets: Sequence[tuple[int, int]], spans: Sequence[Span]) -> np.ndarray:
    """One bool per token: False where the token's characters ``[a, b)`` overlap any span ``[s, e)``."""
    keep = np.ones(len(offsets), dtype=bool)
    if not spans or not len(offsets):
        return keep
    starts = np.asarray([a for a, _ in offsets])
    ends = np.asarray([b for _, b in offsets])
    for s, e in spans:
        keep &= ~((starts < e) & (ends > s))
    return keep


def masked_memmap(
    texts: Sequence[str], spans: Sequence[Sequence[Span]], tokenizer, path: str | Path
) -> tuple[np.memmap, np.memmap]:
    """Token ids (``path``, uint16, each document followed by eos) and a loss mask beside it (``path.mask``,
    uint8: 1 = the token's loss counts). eos tokens always count. Written to ``.tmp`` and renamed."""
    if len(texts) != len(spans):
        raise FilterkitError(f"{path}: {len(texts)} texts but {len(spans)} span lists")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mask_path = path.with_name(path.name + ".mask")
    eos = tokenizer.eos_token_id
    ids_out, keep_out = [], []
    for start in range(0, len(texts), 1024):
        enc = tokenizer(list(texts[start : start + 1024]), add_special_tokens=False, return_offsets_mapping=True)
        for ids, offsets, sp in zip(enc["input_ids"], enc["offset_mapping"], spans[start : start + 1024]):
            ids_out.append(np.asarray([*ids, eos], dtype=np.uint16))
            keep_out.append(np.append(token_keep(offsets, sp), True).astype(np.uint8))
    for arr, dest in ((np.concatenate(ids_out), path), (np.concatenate(keep_out), mask_path)):
        tmp = dest.with_name(dest.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(arr.tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    return np.memmap(path, dtype=np.uint16, mode="r"), np.memmap(mask_path, dtype=np.uint8, mode="r")


def span_removed(texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> list[str]:
    """Each text with its spans cut out (``spans.remove_spans``); a text left empty is dropped."""
    out = [remove_spans(t, sp) if sp else t for t, sp in zip(texts, spans)]
    return [t for t in out if t]
