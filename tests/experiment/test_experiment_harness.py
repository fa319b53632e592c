"""`filterkit experiment` end to end on a tiny config (seconds): every output the report promises."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from filterkit.cli import app
from tests.conftest import BLOCKLIST, ROOT

pytestmark = pytest.mark.slow  # each test trains a tiny LM or runs the experiment: minutes on 2 cores


def test_tiny_experiment_runs_end_to_end(tmp_path):
    (tmp_path / "filter.yaml").write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 1, "mode": "remove"},
                "classifier": {"enabled": False},
            }
        )
    )
    (tmp_path / "exp.yaml").write_text(
        yaml.safe_dump(
            {
                "seeds": [0, 1],
                "corpus": {
                    "n_docs_general": 120,
                    "n_docs_proxy": 60,
                    "n_attack_weak": 20,
                    "n_fact_injection": 20,
                    "n_control": 20,
                    "n_proxy_heldout": 10,
                    "habitat_notes": 1,
                },
                "filter_pipeline": "filter.yaml",
                "vocab_size": 400,
                "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "steps": 10, "batch_size": 4},
                "attack": {"steps": 4, "eval_every": 2, "eval_at": [1], "lrs": [1e-3, 3e-3, 1e-2], "controls_steps": 2},
                "leak_fractions": [0.0, "actual", 1.0],
            }
        )
    )
    out = tmp_path / "exp"
    r = CliRunner().invoke(app, ["experiment", "--config", str(tmp_path / "exp.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["chance"] == 0.25 and res["seeds"] == [0, 1]
    for name in ("baseline", "filtered"):
        for key in ("proxy_acc", "general_acc", "proxy_loss", "general_loss"):
            lo, hi = res[name][f"{key}_ci95"]
            assert lo <= res[name][key] <= hi
    assert 0 < res["filter"]["recall"] <= 1 and 0 < res["filter"]["precision"] <= 1
    assert res["filter"]["counts"]["read"] == 180  # the real pipeline filtered the training shards
    a = res["attack"]
    assert a["steps"] == [0, 1, 2, 4] and a["tokens"] == [0, 128, 256, 512] and a["controls_tokens"] == [0, 128, 256]
    assert set(a["models"]) == {"baseline", "filtered", "no_proxy"}
    for name, e in a["models"].items():
        assert e["best_lr"] in (1e-3, 3e-3, 1e-2) and len(e["sweep"]) == 3
        assert len(e["proxy_acc"]) == 4 == len(e["proxy_loss"]) == len(e["proxy_acc_ci95"])
        assert len(e["proxy_acc_per_seed"]) == (1 if name == "no_proxy" else 2)
    assert "fact_injection" in a["models"]["filtered"] and "benign" in a["models"]["baseline"]
    assert a["heldout_proxy_source"] == "proxy_heldout/"
    chk = res["attack_check"]
    assert set(chk["no_proxy_model_gain"]) == {"all", "inferable", "arbitrary"} and chk["passed"] in (True, False)
    assert {v["inferable"] for v in chk["per_attribute"].values()} == {True, False}
    rl = res["relearn"]
    assert {"filtered_tokens", "baseline_tokens", "slowdown", "slowdown_ci95", "censored"} <= set(rl)
    assert len(rl["filtered_tokens"]) == 2 and rl["baseline_tokens"] > 0 and "filtered_tokens" in rl["loss"]
    assert len(rl["inferable"]["filtered_tokens"]) == 2 and rl["inferable"]["metric"].endswith("inferable attributes")
    assert len(res["leak"]["fractions"]) == 3 and len(res["leak"]["proxy_acc"]) == 3
    # 1.0 is the baseline corpus, "actual" the filtered one and 0.0 the no-proxy model: reused, not retrained
    assert res["leak"]["source"][-1] == "baseline model" and res["leak"]["source"][0].startswith("no-proxy")
    assert res["leak"]["proxy_acc"][-1] == res["baseline"]["per_seed"][0]["proxy_acc"]
    assert res["leak"]["proxy_acc"][0] == res["no_proxy"]["per_seed"][0]["proxy_acc"]
    assert res["provenance"]["torch"] and "git_rev" in res["provenance"]
    assert res["token_budget"]["tokens_per_model"] == 10 * 4 * 32
    assert 0 <= res["baseline"]["proxy_acc_norm"] <= 1
    assert res["wall_seconds"] > 0
    for f in ("report.md", "knowledge.png", "attack.png", "sweep.png", "attack_check.png", "leak.png", "config.json"):
        assert (out / f).is_file(), f
    assert (out / "models" / "baseline" / "config.json").is_file() and (out / "models" / "tokenizer").is_dir()
    from transformers import (
        AutoTokenizer,  # each model folder is whole: lm-eval needs no tokenizer= argument
    )

    tok = AutoTokenizer.from_pretrained(str(out / "models" / "baseline"))
    assert tok.eos_token == "<|endoftext|>" and (out / "models" / "filtered" / "lm_config.json").is_file()
    report = (out / "report.md").read_text()
    assert "Attack check" in report and "fact injection" in report and "Relearn" in report


def test_user_corpus_and_mmlu_layout_eval_files(tmp_path):
    """A user's own corpus folder (no labels: the filter cannot be scored) and their own MMLU-style eval file."""
    from filterkit.experiment.corpus import build_corpus, write_corpus

    corpus = build_corpus(
        3,
        n_docs_general=120,
        n_docs_proxy=60,
        n_attack_weak=20,
        n_fact_injection=20,
        n_control=20,
        eval_fraction=0.5,
        n_organisms=20,
        n_towns=10,
        n_people=20,
    )
    cdir = write_corpus(corpus, tmp_path / "mine")
    (cdir / "fact_injection").rename(cdir / "attack_strong")  # a corpus written before the rename still reads
    for p in (cdir / "proxy_heldout").glob("*"):  # and one without held-out proxy text holds out attack documents
        p.unlink()
    for shard in (cdir / "train").glob("*.parquet"):  # drop the labels, as a user's web corpus has none
        pq.write_table(pq.read_table(shard).drop(["label"]), shard)
    mmlu = tmp_path / "proxy_mmlu.jsonl"
    mmlu.write_text(
        "\n".join(
            json.dumps(
                {
                    "question": f"Which genus is {o.name} in?",
                    "choices": [o.genus.name, "a", "b", "c"],
                    "answer": 0,
                    "subject": "synthetic",
                }
            )
            for o in corpus.world.organisms[:8]
        )
    )
    (tmp_path / "filter.yaml").write_text(
        yaml.safe_dump(
            {
                "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 1, "mode": "remove"},
                "classifier": {"enabled": False},
            }
        )
    )
    (tmp_path / "exp.yaml").write_text(
        yaml.safe_dump(
            {
                "seeds": [0],
                "corpus_dir": "mine",
                "eval_files": {"proxy": "proxy_mmlu.jsonl"},
                "filter_pipeline": "filter.yaml",
                "vocab_size": 300,
                "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "steps": 4, "batch_size": 4},
                "attack": {"steps": 2, "eval_every": 2},
                "leak_fractions": [0.0, 1.0],
            }
        )
    )
    out = tmp_path / "exp"
    r = CliRunner().invoke(app, ["experiment", "--config", str(tmp_path / "exp.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["n_questions"]["proxy"] == 8 and res["eval_prompt_template"].startswith("Question:")
    assert res["filter"]["recall"] is None and res["leak"]["fractions"] == []
    assert "n/a (no labels)" in (out / "report.md").read_text()
    assert res["attack"]["heldout_proxy_source"].startswith("every fifth") and res["attack_check"]["passed"] is None
    assert set(res["attack"]["models"]) == {"baseline", "filtered"} and res["relearn"]["slowdown"] is None


def test_bad_experiment_config(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("seedz: [0]\n")
    r = CliRunner().invoke(app, ["experiment", "--config", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "seedz" in r.stderr
    p.write_text("seeds: [0]\nvocab_size: 512\nseeds: [1]\n")  # the same reader as pipeline configs
    r = CliRunner().invoke(app, ["experiment", "--config", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "'seeds' appears twice" in r.stderr and not (tmp_path / "o").exists()


def test_config_errors_name_the_file_and_the_fix_before_any_work(tmp_path):
    """Unknown keys get the closest valid name; a model section LMConfig would refuse fails at load, not after the
    filter has run (nothing is written to --out)."""
    from filterkit.errors import FilterkitError
    from filterkit.experiment.config import load_experiment_config

    cases = {
        "corpus:\n  n_organism: 40\n": "corpus.n_organism: unknown key (did you mean 'n_organisms'?)",
        "model:\n  n_embed: 64\n": "model.n_embed: unknown key (did you mean 'n_embd'?)",
        "attack:\n  step: 5\n": "attack.step: unknown key (did you mean 'steps'?)",
        "filter_training:\n  backend: fasttext\n  max_term: 3\n": "did you mean 'max_terms'?",
        "model:\n  n_embd: 30\n  n_head: 4\n": "must be divisible by n_head",
        "model:\n  vocab_size: 100\n": "model.vocab_size: unknown key",  # the experiment sets it (vocab_size)
        "leak_fractions: [0.0, actul]\n": "leak_fractions.1",
        "- a list\n": "must be a YAML mapping",
    }
    for text, message in cases.items():
        p = tmp_path / "exp.yaml"
        p.write_text(text)
        with pytest.raises(FilterkitError) as e:
            load_experiment_config(p)
        assert str(e.value).startswith(f"{p}:") and message in str(e.value), str(e.value)
    p.write_text("model:\n  n_embd: 30\n  n_head: 4\n")
    r = CliRunner().invoke(app, ["experiment", "--config", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "n_head" in r.stderr and not (tmp_path / "o").exists()


def test_shipped_experiment_configs_validate():
    """The CPU and GPU configs parse with a typed model section; the GPU one asks for bf16 and torch.compile."""
    from filterkit.experiment.config import ModelSection, load_experiment_config
    from filterkit.experiment.lm_config import LMConfig

    root = ROOT / "pipelines"
    for path in sorted(root.glob("experiment*.yaml")):
        if path.name == "experiment-filter.yaml":  # a pipeline config, not an experiment config
            continue
        cfg = load_experiment_config(path)
        # the real-text CPU and GPU configs run one seed (issue 24: one seed in 15 minutes; the 3-seed config is the hand run)
        assert cfg.filter_pipeline.is_file() and len(cfg.seeds) >= (1 if cfg.real is not None else 3)
        assert isinstance(cfg.model, ModelSection) and cfg.model.lm_config(cfg.vocab_size).n_layer == cfg.model.n_layer
    assert len(load_experiment_config(root / "experiment-real-3seed.yaml").seeds) == 3
    gpu = load_experiment_config(root / "experiment-gpu.yaml")
    assert gpu.model.dtype == "bfloat16" and gpu.model.compile is True
    # the section is the LM's config minus what the experiment sets: a run's config is it plus vocab_size and seed
    run = gpu.model.lm_config(gpu.vocab_size, seed=7)
    assert isinstance(run, LMConfig) and isinstance(run, ModelSection) and (run.n_layer, run.seed) == (6, 7)
    assert run.to_dict() == {**gpu.model.to_dict(), "vocab_size": gpu.vocab_size, "seed": 7}
    assert set(LMConfig.model_fields) - set(ModelSection.model_fields) == {"vocab_size", "seed"}


def test_one_source_of_corpus_defaults():
    """A corpus built in code with no arguments and one built from a config without a corpus section are the same."""
    from filterkit.experiment.config import CorpusSection, ExperimentConfig
    from filterkit.experiment.corpus import build_corpus, corpus_from_section

    assert ExperimentConfig().corpus == CorpusSection()
    small = dict(
        n_docs_general=120, n_docs_proxy=60, n_attack_weak=5, n_fact_injection=5, n_control=5, n_proxy_heldout=5
    )
    assert build_corpus(0, **small).to_json() == corpus_from_section(CorpusSection(**small)).to_json()
    assert build_corpus(0, **small).config == {
        k: v for k, v in CorpusSection(**small).model_dump().items() if k != "seed"
    }


SIZES = {
    "n_docs_general": 150,
    "n_docs_proxy": 80,
    "n_attack_weak": 0,
    "n_fact_injection": 0,
    "n_control": 0,
    "eval_fraction": 0.5,
    "n_organisms": 20,
    "n_towns": 10,
    "n_people": 20,
}


@pytest.fixture(scope="module")
def trained_filter(tmp_path_factory) -> Path:
    """A fastText filter trained by filter_training on seed 5's independent world (once per module: ~25 s)."""
    from filterkit.experiment.config import ExperimentConfig
    from filterkit.experiment.filtering import train_filter

    root = ROOT / "pipelines"
    cfg = ExperimentConfig.model_validate(
        {
            "corpus": {"seed": 5, **SIZES},
            "filter_pipeline": str(root / "experiment-filter.yaml"),
            "filter_training": {"backend": "fasttext", "max_terms": 40},
        }
    )
    return train_filter(cfg, tmp_path_factory.mktemp("filter") / "filter-model")


def test_filter_trained_on_an_independent_world_runs_in_the_real_pipeline(tmp_path, trained_filter):
    """filter_training builds a blocklist and a head from another seed's world, and `filterkit run` uses them."""
    from filterkit.config import load_config
    from filterkit.experiment.corpus import build_corpus, write_corpus
    from filterkit.experiment.filtering import filter_corpus

    sizes = SIZES
    pipeline = trained_filter
    pcfg = load_config(pipeline)
    assert pcfg.blocklist.path.is_file() and (pipeline.parent / "head").is_dir()
    assert not pcfg.semantic_gate.enabled  # no gate is trained for the synthetic world
    labels = pq.read_table(pipeline.parent / "labels.parquet")
    other = build_corpus(5 + 1000, **sizes)
    assert set(labels.column("text").to_pylist()) <= {d.text for d in other.train if d.kind != "hard_positive"}
    mine = build_corpus(5, **sizes)
    assert not {d.entity for d in mine.train if d.entity} & {d.entity for d in other.train if d.entity}
    cdir = write_corpus(mine, tmp_path / "corpus")
    res = filter_corpus(cdir, pipeline, tmp_path / "filter")
    assert res["counts"]["read"] == 230 and res["counts"]["conservation_ok"]
    assert res["recall"] > 0.5 and res["precision"] > 0.5


def test_span_granularity_side_by_side_with_document_filtering(tmp_path, trained_filter):
    """filter_granularity: span trains a span-filtered model beside the document-filtered one, from the same run's
    classifier at the same threshold, and reports both (relearn included) in results.json and report.md."""
    (tmp_path / "exp.yaml").write_text(
        yaml.safe_dump(
            {
                "seeds": [0, 1],
                "corpus": {
                    "n_docs_general": 120,
                    "n_docs_proxy": 60,
                    "n_attack_weak": 20,
                    "n_fact_injection": 20,
                    "n_control": 20,
                    "n_proxy_heldout": 10,
                    "habitat_notes": 1,
                    "n_organisms": 20,
                    "n_towns": 10,
                    "n_people": 20,
                },
                "filter_pipeline": str(trained_filter),  # the module's fastText filter (another world), used as is
                "filter_granularity": "span",
                "vocab_size": 400,
                "model": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "steps": 6, "batch_size": 4},
                "attack": {"steps": 2, "eval_every": 2, "lrs": [1e-3, 1e-2], "controls_steps": 1},
                "leak_fractions": [0.0, "actual", 1.0],
            }
        )
    )
    out = tmp_path / "exp"
    r = CliRunner().invoke(app, ["experiment", "--config", str(tmp_path / "exp.yaml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    sp = res["span"]
    assert sp["source"].startswith("sentences scored here") and 0 < sp["threshold"] < 1
    assert sp["n_spans"] > 0 and sp["escalated"] > 0 and 0 < sp["cut_char_fraction"] < 1
    spans = pq.read_table(out / "filter-spans" / "spans.parquet")
    assert spans.column_names == ["id", "start", "end", "score"] and spans.num_rows == sp["n_spans"]
    assert min(spans.column("score").to_pylist()) >= sp["threshold"]
    g = res["granularity"]
    assert set(g) == {"document", "span"}
    for e in g.values():
        assert {
            "proxy_acc",
            "general_acc",
            "relearn_slowdown",
            "relearn_slowdown_ci95",
            "attack_peak_proxy_acc",
        } <= set(e)
    # span filtering keeps more of the general text than dropping whole documents does, and some proxy text
    assert g["span"]["chars_kept"]["general"] >= g["document"]["chars_kept"]["general"]
    assert g["span"]["corpus_tokens"] >= g["document"]["corpus_tokens"]
    assert len(res["span_filtered"]["per_seed"]) == 2 and "span_filtered" in res["attack"]["models"]
    assert "fact_injection" not in res["attack"]["models"]["span_filtered"]
    assert "Document vs span filtering" in (out / "report.md").read_text()
