"""The generated corpus is pinned: refactors of the generator (world model, template files) must leave every
document, question and manifest byte-identical. Parquet shards are pinned by content (schema + rows), so a
pyarrow upgrade that changes file metadata does not fail this test; the JSON files are pinned by their bytes.

To change the corpus on purpose, regenerate the pins and say why in the commit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filterkit.experiment.corpus import build_corpus, write_corpus

CONFIGS = {
    # the tiny test config (tests/experiment/test_experiment_harness.py) with the experiment config's corpus defaults
    "tiny": dict(
        seed=0,
        n_docs_general=120,
        n_docs_proxy=60,
        n_attack_weak=20,
        n_fact_injection=20,
        n_control=20,
        eval_fraction=0.5,
        n_organisms=60,
        n_towns=30,
        n_people=60,
        n_proxy_heldout=10,
        habitat_notes=1,
    ),
    # pipelines/experiment-cpu.yaml's corpus (the committed results in sample_data/experiment-cpu/)
    "cpu": dict(
        seed=0,
        n_docs_general=2000,
        n_docs_proxy=600,
        n_attack_weak=300,
        n_fact_injection=300,
        n_control=300,
        eval_fraction=0.5,
        n_organisms=60,
        n_towns=20,
        n_people=40,
        n_proxy_heldout=100,
        habitat_notes=2,
    ),
}

PINS = {
    "tiny": {
        "to_json": "afa831fa4e3e84d04c2d9251385e19f6e952491b3eb97dff6dd36108d10f7685",
        "attack_weak/part-00000.parquet": "4f640906bee27b280350e1c100557c784960206b65a83441fc38dc507ff3b221",
        "control/part-00000.parquet": "6017ffd239dcf4a1fc16eb1bf0cd243a025c8c1e4374eb64c751e076291491c1",
        "fact_injection/part-00000.parquet": "fc0f1998afe3ad3acb57e81b72b82150061a1431255b85a17a1952bf8bf66ccf",
        "manifest.json": "7671ebdef3c5156cd6bbafdb6715286921ce69e6ba59109d0b5d11505664be1e",
        "proxy_heldout/part-00000.parquet": "f96a09b35951b57fae01322ce54a0adb1564887d283db696cd5aeff27cdc8972",
        "questions/general.jsonl": "a40a95ef945e0a0c191a9d6621cf98f807d9b37ffd67bf58107c3146e24122b1",
        "questions/proxy.jsonl": "4235df588f1b8a48b0b2ba93e6a11e921131eac8a1040fb49144923de956d5ea",
        "train/part-00000.parquet": "45ffe08c6970d6c3759ca0c5cb807fb35bd0d77c61526a02862477f3cea4422a",
    },
    "cpu": {
        "to_json": "541c84dbf8565e0c19f5d10b81de583b2b4a29efe68580bf9f3c94f26e6ea172",
        "attack_weak/part-00000.parquet": "d236e5dbc7fe1c40470238588353fd1af18308cb13c9f34ccf8cd7b544b429c0",
        "control/part-00000.parquet": "07fed8584ef2d624a29b0b872aaa17a64ad3154cc98ecfa16f80db72b4c0e5a6",
        "fact_injection/part-00000.parquet": "cc6c91d0260f669e892515c8d95588ad69e5664db72adf7640acf0b0a1baa315",
        "manifest.json": "5ca30a8f8a3dd7a7c50518943cfddbf0b41f496c58628115859756bb813b0350",
        "proxy_heldout/part-00000.parquet": "832e8535ea63401cbf8b8bfbeb9ed96a7beddd9f142e883a50683ab62c197928",
        "questions/general.jsonl": "711274d392dc92294233c79bfee586466ca16078a87ed0e208595c1fcf73df44",
        "questions/proxy.jsonl": "4235df588f1b8a48b0b2ba93e6a11e921131eac8a1040fb49144923de956d5ea",
        "train/part-00000.parquet": "a6449482c52178acd2e89de62e50c9bb6acdccc73084fe8db5654d7a6cb573ef",
    },
}


def corpus_digest(kwargs: dict, folder: Path) -> dict[str, str]:
    kw = dict(kwargs)
    corpus = build_corpus(kw.pop("seed"), **kw)
    write_corpus(corpus, folder)
    out = {"to_json": hashlib.sha256(corpus.to_json().encode()).hexdigest()}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".parquet":
            t = pq.read_table(p)
            data = json.dumps({"schema": str(t.schema), "rows": t.to_pydict()}, sort_keys=True, ensure_ascii=False)
            out[str(p.relative_to(folder))] = hashlib.sha256(data.encode()).hexdigest()
        else:
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generated_corpus_is_byte_identical_to_the_pinned_one(name, tmp_path):
    assert corpus_digest(CONFIGS[name], tmp_path) == PINS[name]
