"""One keep/remove rule: the stages, `rethreshold` and `tune`'s cascade estimate remove the same documents,
and one scoring spec: `tune --pipeline` scores as the run does. A registered test backend stands in for the
encoder, so this runs in seconds; it also shows that a backend is one class plus one registry line."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pydantic
import pytest

from filterkit import run
from filterkit.classify import registry
from filterkit.classify.base import DocScore
from filterkit.classify.registry import read_classifier_info
from filterkit.config import ScoringSpec, load_config
from filterkit.contract import ESCALATED_BY_VALUES, Rule, decide, decide_many
from filterkit.runs.rethreshold import rethreshold
from tests.conftest import GENERAL, PROXY, write_pipeline, write_shard


def _score(text: str) -> float:
    """A fixed pseudo-score per text, spread over [0, 1)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**32


class HashScores:
    """A test backend: scores from a hash of the text; texts containing 'unscorable' get an error."""

    def __init__(self, info, spec: ScoringSpec) -> None:
        self.info, self.spec = info, spec

    @classmethod
    def load(cls, folder, spec: ScoringSpec | None = None) -> HashScores:
        return cls(read_classifier_info(folder), spec or ScoringSpec())

    def score(self, texts):
        return [DocScore(None, 0, "cannot cut") if "unscorable" in t else DocScore(_score(t), 1) for t in texts]

    def submit(self, texts):
        return self.score(texts)

    def collect(self, pending):
        return pending


@pytest.fixture
def hash_backend(tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(registry.BACKENDS, "hash", registry.Backend(f"{__name__}:HashScores", "weights.bin"))
    folder = tmp_path / "hash-clf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"backend": "hash", "threshold": 0.5}))
    (folder / "weights.bin").write_bytes(b"none")
    return folder


def test_decide_and_decide_many_agree_on_every_case():
    cases = list(itertools.product((None, *ESCALATED_BY_VALUES), ((0.2, None), (0.6, None), (0.97, None), (None, "x"))))
    escalated_by = np.array([c for c, _ in cases], dtype=object)
    scores = np.array([np.nan if s is None else s for _, (s, _) in cases])
    errors = np.array([e is not None for _, (_, e) in cases])
    for mode, clf, gate_only, on_error in itertools.product(
        ("escalate", "remove"), (True, False), (None, 0.9), ("remove", "keep")
    ):
        rule = Rule(mode=mode, classifier=clf, threshold=0.5, gate_only_threshold=gate_only, on_error=on_error)
        many = decide_many(rule, escalated_by, scores, errors)
        for i, (c, (s, e)) in enumerate(cases):
            one = decide(rule, c, s, e)
            assert (one[1].value if one else "") == many[i], (rule, c, s, e)
    # the gate-only bar applies only to gate escalations
    assert (
        decide(
            Rule(mode="escalate", classifier=True, threshold=0.5, gate_only_threshold=0.9, on_error="remove"),
            "gate",
            0.6,
        )
        is None
    )
    assert (
        decide(
            Rule(mode="escalate", classifier=True, threshold=0.5, gate_only_threshold=0.9, on_error="remove"),
            "terms",
            0.6,
        )
        is not None
    )


def _removed(out: Path) -> set[tuple[str, int]]:
    return {
        (r["input_shard"], r["row_index"])
        for f in sorted((out / "audit").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    }


# below the term bar but on-topic in style (the gate escalates them), and a short text with one term (the
# length-aware bar escalates it): the verdicts a copy of the rule most easily gets wrong
_GATE_ONLY = [
    "Outbreak reports describe how the illness spread between villages and how clinics isolated the patients "
    "until the fever cases stopped.",
    "Doctors washed their hands between patients, and the wards saw fewer fevers that winter than in any year before.",
    "The immune system learns to recognise invaders, and a second encounter with the same germ brings a faster, "
    "stronger response.",
]
_SHORT = ["A short note on bacteria."]


@pytest.mark.slow  # four end-to-end paths per case: ~4 s each
@pytest.mark.parametrize("on_error", ["remove", "keep"])
def test_dry_run_run_rethreshold_and_tune_remove_the_same_documents(hash_backend, tmp_path, on_error):
    """One cheap-stage verdict (Escalation.escalated_by) and one rule (contract.decide) behind every path that removes or
    estimates removals: a gate-only bar, a length-aware term bar and on_error all apply alike."""
    from filterkit.evaluate.tune import Cascade, score_documents
    from filterkit.match.escalation import Escalator
    from filterkit.runs.dryrun import dry_run
    from tests.conftest import ROOT

    texts = [f"{t} (item {i})" for i in range(4) for t in PROXY + GENERAL + _GATE_ONLY + _SHORT]
    texts += ["An unscorable note on bacteria and viruses.", "An unscorable note on football."]
    write_shard(tmp_path / "in" / "s0.parquet", texts[:25])
    write_shard(tmp_path / "in" / "s1.parquet", texts[25:])

    def pipeline(name: str, threshold: float) -> Path:
        return write_pipeline(
            tmp_path / f"{name}.yaml",
            blocklist={"min_unique_hits": 2, "short_doc_words": 12, "short_min_unique_hits": 1},
            semantic_gate={
                "enabled": True,
                "path": str(ROOT / "classifiers" / "biorisk-proxy-static"),
                "threshold": 0.2,
            },
            classifier={
                "path": str(hash_backend),
                "threshold": threshold,
                "gate_only_threshold": 0.7,
                "on_error": on_error,
            },
        )

    pipe = pipeline("p", 0.3)
    base = run(tmp_path / "in", pipe, tmp_path / "base")
    assert base.counts["conservation_ok"] and base.counts["removed_classifier"] > 0

    cfg = load_config(pipe)
    escalated_by = Escalator(cfg.blocklist, cfg.semantic_gate)(texts).escalated_by()
    assert {"terms", "gate", "none"} <= set(escalated_by)
    scores, errors = score_documents(hash_backend, texts, ScoringSpec.from_config(cfg.classifier))
    gate_between = (escalated_by == "gate") & (scores >= 0.3) & (scores < 0.7)
    assert gate_between.any()  # documents only the gate-only bar keeps: a bare `score >= threshold` removes them
    cascade = Cascade(cfg, escalated_by, scores, errors)
    where = [("s0.parquet", i) for i in range(25)] + [("s1.parquet", i) for i in range(len(texts) - 25)]

    def estimated(t: float) -> set[tuple[str, int]]:
        return {where[i] for i in np.flatnonzero(cascade.removed(t))}

    assert _removed(tmp_path / "base") == estimated(0.3)
    plan = dry_run(tmp_path / "in", pipe, sample_docs=len(texts), score_docs=len(texts))
    c = base.counts
    by_reason = {
        "blocklist_terms": c["removed_blocklist"],
        "classifier_score": c["removed_classifier"],
        "error": c["removed_error"],
    }
    assert (by_reason["error"] > 0) == (on_error == "remove")
    assert plan["sample_removed_by_reason"] == {k: v for k, v in by_reason.items() if v}
    assert plan["sample_removed_of_scored"] == base.counts["removed"]
    for t in (0.1, 0.55, 0.8):
        re = rethreshold(tmp_path / "base", tmp_path / f"re{t}", threshold=t)
        fresh = run(tmp_path / "in", pipeline(f"p{t}", t), tmp_path / f"fresh{t}")
        assert _removed(tmp_path / f"re{t}") == _removed(tmp_path / f"fresh{t}") == estimated(t), t
        assert re.counts == fresh.counts


def test_tune_scores_with_the_pipelines_spec(hash_backend, tmp_path, monkeypatch):
    """`tune --pipeline` builds its classifier from the same ScoringSpec as the run's stage (int8 included)."""
    from filterkit.evaluate import tune as tune_mod
    from filterkit.stages.classifier import ClassifierStage

    labels = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"text": PROXY + GENERAL, "label": [1] * len(PROXY) + [0] * len(GENERAL)}), labels)
    pipe = write_pipeline(
        tmp_path / "p.yaml",
        classifier={
            "path": str(hash_backend),
            "runtime": "onnx",
            "precision": "int8",
            "max_tokens": 128,
            "long_docs": "truncate",
        },
    )
    seen: list[ScoringSpec] = []
    real = registry.load_classifier
    monkeypatch.setattr(registry, "load_classifier", lambda folder, spec=None: seen.append(spec) or real(folder, spec))
    tune_mod.tune(labels, hash_backend, pipeline=pipe, n_boot=20)
    stage = ClassifierStage.from_config(load_config(pipe))
    assert seen == [stage.spec]
    assert stage.spec.precision == "int8" and stage.spec.long_docs == "truncate" and stage.spec.max_tokens == 128


def test_every_classifier_setting_that_moves_scores_is_in_the_scoring_spec():
    """A new `classifier:` key is either part of ScoringSpec (so run, tune, dry-run and the benchmarks score with
    it alike) or named here as a setting that only decides on scores or buffers documents."""
    from filterkit.config import ClassifierConfig

    decides_only = {"enabled", "path", "threshold", "gate_only_threshold", "batch_docs", "on_error"}
    assert set(ClassifierConfig.model_fields) - set(ScoringSpec.model_fields) == decides_only
    c = ClassifierConfig(
        device="cpu",
        max_tokens=64,
        batch_tokens=512,
        long_docs="truncate",
        runtime="onnx",
        precision="int8",
        export_spans=True,
        cpu_int8=True,
    )
    assert {k: getattr(c.spec, k) for k in ScoringSpec.model_fields} == {
        k: getattr(c, k) for k in ScoringSpec.model_fields
    }
    with pytest.raises(pydantic.ValidationError):
        c.spec.replaced(device="tpu")  # validated like the config it came from
