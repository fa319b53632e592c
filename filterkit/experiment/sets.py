"""The synthetic experiment's document sets as the harness reads them: texts of a corpus folder, token files, the
eval questions, and the checks on a user's own ``corpus_dir``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from filterkit.errors import FilterkitError
from filterkit.experiment.config import ExperimentConfig


def read_texts(corpus_dir: Path, subset: str, ids: set[str] | None = None) -> list[str]:
    rows = pq.read_table(corpus_dir / subset, columns=["id", "text"]).to_pylist()
    return [r["text"] for r in rows if ids is None or r["id"] in ids]


def token_file(texts: list[str], tokenizer, path: Path) -> np.ndarray:
    from filterkit.experiment.tokens import tokenize_to_memmap

    return tokenize_to_memmap(texts, tokenizer, path)


def load_questions(cfg: ExperimentConfig, cdir: Path) -> tuple[dict[str, list[dict]], str]:
    """The eval sets and the prompt template they are asked with (see ExperimentConfig.eval_prompt_template)."""
    from filterkit.experiment.evals import load_mc_file
    from filterkit.experiment.questions import PROMPT_TEMPLATE

    questions = {
        d: load_mc_file(cfg.eval_files.get(d, cdir / "questions" / f"{d}.jsonl")) for d in ("proxy", "general")
    }
    default = "Question: {question}\nAnswer:" if cfg.eval_files else PROMPT_TEMPLATE
    return questions, cfg.eval_prompt_template or default


def corpus_sets(cfg: ExperimentConfig, out: Path) -> Path:
    """The generated corpus, or the user's ``corpus_dir`` checked for the folders the experiment reads."""
    from filterkit.experiment.corpus import corpus_from_section, write_corpus

    if cfg.corpus_dir is None:
        return write_corpus(corpus_from_section(cfg.corpus), out / "corpus")
    cdir = cfg.corpus_dir
    for sub in ("train", "attack_weak", fact_injection_dir(cdir).name, "control"):
        if not any((cdir / sub).glob("*.parquet")):
            raise FilterkitError(
                f"{cdir / sub}: no parquet shards; corpus_dir needs train/, attack_weak/, "
                f"fact_injection/ (or attack_strong/) and control/ folders of parquet with text and id"
            )
    return cdir


def fact_injection_dir(cdir: Path) -> Path:
    """``fact_injection/``, or ``attack_strong/`` in a corpus written before the rename."""
    new, old = cdir / "fact_injection", cdir / "attack_strong"
    return old if not new.exists() and old.exists() else new


def attack_texts(cdir: Path) -> tuple[list[str], list[str], str]:
    """Attack corpus and held-out proxy text. Without ``proxy_heldout/`` (a user's corpus), every fifth attack
    document is held out instead, so the loss along the attack is never measured on text it trains on."""
    attack = read_texts(cdir, "attack_weak")
    if any((cdir / "proxy_heldout").glob("*.parquet")):
        held = read_texts(cdir, "proxy_heldout")
        if held:
            return attack, held, "proxy_heldout/"
    return [t for i, t in enumerate(attack) if i % 5 != 4], attack[4::5], "every fifth attack_weak/ document"


def token_sets(cdir: Path, tokenizer, kept_ids: set[str], data_dir: Path, labelled: bool) -> tuple[dict, str]:
    """Every token file the synthetic run trains or evaluates on, and where the held-out proxy text came from.

    ``baseline`` is the whole training corpus, ``filtered`` what ``filterkit run`` kept of it; ``no_proxy`` (the leak
    curve's 0 point, which the attack check fine-tunes) needs the corpus's labels. ``attack``, ``fact_injection``,
    ``control`` and ``proxy_heldout`` are never in pretraining."""
    attack, heldout, heldout_source = attack_texts(cdir)

    def tokens(texts: list[str], name: str) -> np.ndarray:
        return token_file(texts, tokenizer, data_dir / f"{name}.bin")

    data = {
        "baseline": tokens(read_texts(cdir, "train"), "baseline"),
        "filtered": tokens(read_texts(cdir, "train", kept_ids), "filtered"),
        "attack": tokens(attack, "attack"),
        "fact_injection": tokens(read_texts(cdir, fact_injection_dir(cdir).name), "fact_injection"),
        "control": tokens(read_texts(cdir, "control"), "control"),
        "proxy_heldout": tokens(heldout, "proxy_heldout"),
    }
    if labelled:
        rows = pq.read_table(cdir / "train", columns=["text", "label"]).to_pylist()
        data["no_proxy"] = tokens([r["text"] for r in rows if r["label"] == 0], "no_proxy")
    return data, heldout_source
