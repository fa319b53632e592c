"""Where the filterkit experiment's questions come from when lm-eval-harness runs the tasks in this folder.

lm-eval calls ``custom_dataset(**metadata)``; ``metadata`` holds ``--metadata`` (a JSON object) and, under
``lm_eval.simple_evaluate``, the model arguments too. The file for a domain (``proxy`` or ``general``) is, first found:

1. ``<domain>_file``: a questions file (jsonl or parquet: ``question``, ``choices``, ``answer``);
2. ``questions_dir``: a folder holding ``<domain>.jsonl`` (an experiment's ``corpus/questions/``);
3. the run folder above ``pretrained`` (``RUN/models/<name>``): its ``config.json``'s ``eval_files`` entry, else the
   ``questions/<domain>.jsonl`` of its ``corpus_dir`` or of the corpus it generated (``RUN/corpus``).

Files are read with filterkit's own reader (:func:`filterkit.experiment.lm.load_mc_file`), so lm-eval sees the
rows the experiment scored, and nothing is fetched from a hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def proxy(**metadata: Any):
    return _questions("proxy", metadata)


def general(**metadata: Any):
    return _questions("general", metadata)


def _questions(domain: str, metadata: dict[str, Any]):
    import datasets

    from filterkit.experiment.evals import load_mc_file

    rows = load_mc_file(questions_file(domain, metadata))
    table = {
        "question": [str(r["question"]) for r in rows],
        "choices": [[str(c) for c in r["choices"]] for r in rows],
        "answer": [int(r["answer"]) for r in rows],
    }
    return datasets.DatasetDict({"test": datasets.Dataset.from_dict(table)})


def questions_file(domain: str, metadata: dict[str, Any]) -> Path:
    """The questions file for ``domain`` under the rules in this module's docstring."""
    from filterkit.errors import FilterkitError

    if metadata.get(f"{domain}_file"):
        return Path(metadata[f"{domain}_file"]).expanduser()
    if metadata.get("questions_dir"):
        return Path(metadata["questions_dir"]).expanduser() / f"{domain}.jsonl"
    pretrained = metadata.get("pretrained")
    if pretrained and (run := Path(str(pretrained)).expanduser().resolve().parent.parent).is_dir():
        cfg_file = run / "config.json"
        cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
        if (cfg.get("eval_files") or {}).get(domain):
            return Path(cfg["eval_files"][domain])
        corpus = Path(cfg["corpus_dir"]) if cfg.get("corpus_dir") else run / "corpus"
        if (corpus / "questions" / f"{domain}.jsonl").is_file():
            return corpus / "questions" / f"{domain}.jsonl"
    raise FilterkitError(
        f"filterkit_{domain}: no questions file found (pretrained={pretrained!r} is not RUN/models/<name> of an "
        f'experiment run); pass --metadata \'{{"questions_dir": "RUN/corpus/questions"}}\' or '
        f'\'{{"{domain}_file": "path/to/{domain}.jsonl"}}\''
    )
