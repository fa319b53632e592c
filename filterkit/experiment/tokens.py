"""Text to tokens for the experiment: the BPE tokenizer (trained offline), its portable folder, corpora as
uint16 memmaps.

A saved tokenizer folder loads with ``AutoTokenizer`` on transformers 4.40+ and 5.x (:func:`save_tokenizer`), and
the tokenizer prefixes ``<|endoftext|>`` when asked for special tokens, as lm-eval encodes.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic, write_text_atomic

EOS_TOKEN = "<|endoftext|>"


# ---------------------------------------------------------------------------------------------------
# Tokenizer and token files
# ---------------------------------------------------------------------------------------------------


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path | None = None):
    """Train a byte-level BPE tokenizer on the corpus and save it (:func:`save_tokenizer`) in ``out_dir``.

    Byte-level means every string round-trips and nothing maps to an unknown token, so a filtered corpus
    and the eval questions share one vocabulary without surprises. ``<|endoftext|>`` (id 0) is eos, bos
    and pad, as in GPT-2. Training is deterministic: the BPE trainer breaks count ties by the pair itself.

    Unlike GPT-2's, this tokenizer *adds* ``<|endoftext|>`` in front of a text when asked for special tokens
    (``encode(text)``, the default), the way Llama's adds its BOS. The models read every training document
    after an eos (:func:`tokenize_to_memmap` encodes without special tokens and appends one), so a prompt
    starts where a document starts; and since the prefix is the tokenizer's, lm-eval-harness, which encodes
    with the tokenizer's defaults, puts it in front of every prompt exactly as :func:`mc_eval` does.
    """
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )

    if not 257 <= vocab_size <= 65536:
        raise FilterkitError(f"vocab_size={vocab_size}: byte-level BPE needs >= 257 and uint16 memmaps need <= 65536")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    # the template transformers 5 builds from add_bos_token=True; written here too because transformers 4 does not
    tok.post_processor = processors.TemplateProcessing(
        single=f"{EOS_TOKEN} $A", pair=f"{EOS_TOKEN} $A {EOS_TOKEN} $B", special_tokens=[(EOS_TOKEN, 0)]
    )
    hf = _portable_tokenizer_class()(
        tokenizer_object=tok,
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        add_bos_token=True,
        add_eos_token=False,
        clean_up_tokenization_spaces=False,
    )
    if out_dir is not None:
        save_tokenizer(hf, out_dir)
    return hf


@functools.cache
def _portable_tokenizer_class():
    """``PreTrainedTokenizerFast`` whose ``save_pretrained`` also makes the folder portable (:func:`save_tokenizer`).

    So a caller that saves the tokenizer the usual way (``tokenizer.save_pretrained(folder)``) writes a folder
    every supported transformers version loads. Built on first use, as transformers is imported lazily; it is
    reachable as ``lm.PortableTokenizerFast`` (module ``__getattr__``), so the tokenizer pickles.
    """
    from transformers import PreTrainedTokenizerFast

    class PortableTokenizerFast(PreTrainedTokenizerFast):
        def save_pretrained(self, save_directory, *args, **kwargs):
            files = super().save_pretrained(save_directory, *args, **kwargs)
            _make_portable(Path(save_directory))
            return files

    PortableTokenizerFast.__module__, PortableTokenizerFast.__qualname__ = __name__, "PortableTokenizerFast"
    return PortableTokenizerFast


def __getattr__(name: str) -> Any:
    if name == "PortableTokenizerFast":
        return _portable_tokenizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def save_tokenizer(tokenizer, out_dir: str | Path) -> Path:
    """Save ``tokenizer`` so that ``AutoTokenizer.from_pretrained(out_dir)`` loads it on transformers 4.40+ and 5.x.

    transformers 5 names its class ``TokenizersBackend`` in ``tokenizer_config.json``, a name 4.x does not
    know, and tokenizers >= 0.20 writes BPE merges as pairs, which the tokenizers 0.19 that transformers 4.40
    pins cannot read. Both files are rewritten in the form every version reads: ``PreTrainedTokenizerFast``
    with its special tokens, and merges as ``"a b"`` strings (byte-level tokens never hold a space).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    _make_portable(out)
    return out


def _make_portable(folder: Path) -> None:
    cfg_file, tok_file = folder / "tokenizer_config.json", folder / "tokenizer.json"
    if not tok_file.is_file():
        raise FilterkitError(f"{folder}: no tokenizer.json written; save a fast (tokenizers-backed) tokenizer")
    data = json.loads(tok_file.read_text(encoding="utf-8"))
    merges = data.get("model", {}).get("merges")
    if merges and isinstance(merges[0], list) and not any(" " in part for pair in merges for part in pair):
        data["model"]["merges"] = [" ".join(pair) for pair in merges]
        write_text_atomic(tok_file, json.dumps(data, ensure_ascii=False, indent=2))
    cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
    cfg.pop("backend", None)  # transformers 5's marker for TokenizersBackend; 4.x would pass it on as an init kwarg
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    post = data.get("post_processor") or {}
    adds_bos = any("SpecialToken" in piece for piece in post.get("single", [])[:1])
    cfg.setdefault("add_bos_token", adds_bos)
    cfg.setdefault("add_eos_token", False)
    cfg.setdefault("clean_up_tokenization_spaces", False)
    write_json_atomic(cfg_file, cfg)


def _batched(items: Iterable[str], n: int) -> Iterator[list[str]]:
    """Lists of ``n`` items (the last shorter): ``itertools.batched`` before Python 3.12."""
    items = iter(items)
    while batch := list(itertools.islice(items, n)):
        yield batch


def tokenize_to_memmap(texts: Iterable[str], tokenizer, path: str | Path, chunk_docs: int = 1024) -> np.memmap:
    """Tokenise a corpus once into a flat uint16 file: each document's ids followed by eos.

    Streams in chunks so a corpus larger than memory works, and writes ``path.tmp`` then renames, so a
    crash never leaves a short file that a later run would mistake for a finished one.
    """
    path = Path(path)
    eos = tokenizer.eos_token_id
    if len(tokenizer) > 65536:
        raise FilterkitError(f"{path}: tokenizer has {len(tokenizer)} tokens; uint16 memmaps hold at most 65536")
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    n_tokens = 0
    with open(tmp, "wb") as f:
        for batch in _batched(texts, chunk_docs):
            ids = tokenizer(batch, add_special_tokens=False)["input_ids"]
            flat = np.fromiter((t for doc in ids for t in (*doc, eos)), dtype=np.uint16)
            f.write(flat.tobytes())
            n_tokens += flat.size
        f.flush()
        os.fsync(f.fileno())
    if n_tokens == 0:
        tmp.unlink()
        raise FilterkitError(f"{path}: no tokens written; the corpus given was empty")
    os.replace(tmp, path)
    return np.memmap(path, dtype=np.uint16, mode="r")


def load_memmap(path: str | Path) -> np.memmap:
    """Open a token file written by :func:`tokenize_to_memmap`, read-only."""
    return np.memmap(path, dtype=np.uint16, mode="r")
