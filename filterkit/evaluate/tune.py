"""Choosing and defending a classifier threshold on a labelled set (``filterkit tune``).

A threshold is a claim about recall and collateral damage on data nobody has labelled yet, so a bare
point estimate is not enough: every rate comes with a bootstrap 95% interval, the removal rate of each
labelled group (e.g. ``biomed_negative``, ``lexical_trap``) is shown beside the headline numbers, and with
a pipeline config the whole cascade is measured — a document the blocklist never escalates is kept
whatever its score, so the classifier's recall alone overstates what a run removes.

Scores are computed exactly as a run computes them (max over windows; a document that cannot be scored
counts as 1.0, i.e. removed — the pipeline's fail-closed default), and nothing here uses global random
state: the bootstrap draws from ``np.random.default_rng(seed)``, so the same inputs give the same report.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from filterkit.config import ScoringSpec
from filterkit.contract import Rule, decide_many
from filterkit.data.labels import load_labels, texts_and_labels
from filterkit.errors import FilterkitError
from filterkit.evaluate.metrics import (
    RATE_KEYS,
    auc_pair,
    binary_metrics,
    bootstrap_ci,
    calibration_bins,
    expected_calibration_error,
    frac,
    group_removal,
    max_f1_threshold,
    rates,
    threshold_for_recall,
)
from filterkit.evaluate.report import write_report
from filterkit.io import write_text_atomic


def cascade_decisions(
    rule: Rule, escalated_by: np.ndarray | None, scores: np.ndarray, errors: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(escalated, removed) per document under ``rule``: the run's own rule (:func:`filterkit.contract.decide_many`).

    ``escalated_by`` is the cheap stage's verdict per document ("terms", "gate", "none"), or ``None`` when the blocklist
    is off (every document reaches the classifier).
    """
    escalated = (
        np.ones(len(scores), dtype=bool) if escalated_by is None else np.asarray(escalated_by, dtype=object) != "none"
    )
    return escalated, decide_many(rule, escalated_by, scores, errors) != ""


def cascade_metrics(
    y: np.ndarray, rule: Rule, escalated_by: np.ndarray | None, scores: np.ndarray, errors: np.ndarray | None = None
) -> dict[str, Any]:
    """What a run with this pipeline removes: a positive the cheap stage never escalates is kept whatever
    its score, so the cascade's recall is at most the escalation recall."""
    escalated, removed = cascade_decisions(rule, escalated_by, scores, errors)
    pos = y == 1
    return {
        "mode": rule.mode,
        "threshold": float(rule.threshold),
        "escalation_recall": frac(escalated[pos]),
        "escalation_rate_neg": frac(escalated[~pos]),
        "escalated": int(escalated.sum()),
        "removed": int(removed.sum()),
        **rates(removed, y),
    }


# ------------------------------------------------------------------------------------------- scoring


def score_documents(
    classifier: str | Path, texts: list[str], spec: ScoringSpec | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Document scores as a run computes them, and a mask of documents that could not be scored.

    An unscorable document gets 1.0: the pipeline removes it (``on_error: remove``), so it is a removal
    the metrics must count.
    """
    from filterkit.classify.registry import load_classifier

    model = load_classifier(classifier, spec)
    results = model.score(texts)
    errors = np.asarray([r.error is not None or r.score is None for r in results], dtype=bool)
    scores = np.asarray([1.0 if e else float(r.score) for r, e in zip(results, errors)], dtype=float)
    return scores, errors


# ------------------------------------------------------------------------------------- writing files


def write_classifier_threshold(
    classifier: str | Path, threshold: float, rule: str, tuned_runtime: str | None = None
) -> Path:
    """Set ``threshold`` and ``threshold_rule`` (and ``tuned_runtime``, e.g. ``onnx/int8``: the encoder runtime the
    scores came from; loading on another warns) in a classifier's ``config.json``, keeping every other key.

    Written to a temporary file and renamed, so a crash never leaves a half-written config behind.
    """
    from filterkit.classify.base import CONFIG_FILE
    from filterkit.classify.registry import read_classifier_info

    info = read_classifier_info(classifier)
    config = dict(info.config)
    config["threshold"] = float(threshold)
    config["threshold_rule"] = rule
    if tuned_runtime:
        config["tuned_runtime"] = tuned_runtime
    path = info.path / CONFIG_FILE
    write_text_atomic(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


# ---------------------------------------------------------------------------------------------- tune


def _json_safe(obj: Any) -> Any:
    """Undefined rates (``nan``, e.g. precision when nothing is removed) become ``null``: strict JSON."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _evaluate(
    scores: np.ndarray,
    y: np.ndarray,
    target_recall: float,
    n_boot: int,
    seed: int,
    cascade: Callable[[np.ndarray, float, np.ndarray | None], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Point estimates and paired bootstrap intervals for both thresholds (and the cascade, if given).

    Rates are bootstrapped at the thresholds chosen on the full set; the thresholds' own intervals come
    from re-choosing them in each resample.
    """
    t = threshold_for_recall(scores, y, target_recall)
    t_f1 = max_f1_threshold(scores, y)
    point = binary_metrics(scores, y, t)
    f1_point = {k: v for k, v in binary_metrics(scores, y, t_f1).items() if k in RATE_KEYS}

    def stat(idx: np.ndarray) -> dict[str, float]:
        s, yy = scores[idx], y[idx]
        out = auc_pair(s, yy)
        out.update(rates(s >= t, yy))
        out.update({f"maxf1.{k}": v for k, v in rates(s >= t_f1, yy).items()})
        two = yy.min() != yy.max()
        out["threshold"] = threshold_for_recall(s, yy, target_recall) if yy.max() == 1 else float("nan")
        out["maxf1.threshold"] = max_f1_threshold(s, yy) if two else float("nan")
        if cascade is not None:
            out.update({f"cascade.{k}": v for k, v in cascade(yy, t, idx).items()})
        return out

    ci = bootstrap_ci(stat, len(y), n_boot, seed)
    res: dict[str, Any] = {
        **point,
        "ci95": {k: v for k, v in ci.items() if "." not in k},
        "max_f1": {
            "threshold": t_f1,
            **f1_point,
            "ci95": {k.split(".", 1)[1]: v for k, v in ci.items() if k.startswith("maxf1.")},
        },
    }
    res["_cascade_ci"] = {k.split(".", 1)[1]: v for k, v in ci.items() if k.startswith("cascade.")}
    return res


def tune(
    labels: str | Path,
    classifier: str | Path,
    target_recall: float = 0.95,
    pipeline: str | Path | None = None,
    report_dir: str | Path | None = None,
    json_path: str | Path | None = None,
    write_threshold: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    device: str | None = None,
) -> dict[str, Any]:
    """Score a labelled set, choose the threshold meeting ``target_recall``, and report what it costs.

    Returns (and writes to ``json_path``) a JSON-ready dict: AUCs, the chosen threshold with its
    precision / recall / FPR / F1, bootstrap intervals (``ci95``), the max-F1 alternative, per-group
    removal rates, calibration, and with ``pipeline`` the cascade (blocklist escalation, then the
    classifier at the tuned threshold). With a pipeline, documents are scored with its classifier
    scoring spec (:attr:`ClassifierConfig.spec`: ``max_tokens``, ``long_docs``, ``precision``, …) so the threshold
    fits what a run computes; ``device`` (default: the pipeline's, else auto) overrides only where it runs.
    ``write_threshold`` stores the threshold in the classifier's ``config.json``.
    """
    from filterkit.classify.registry import read_classifier_info
    from filterkit.config import load_config
    from filterkit.io import file_sha256

    if not 0 < target_recall <= 1:
        raise FilterkitError(f"target recall must be in (0, 1], got {target_recall}; pass e.g. 0.95")
    labels, classifier = Path(labels), Path(classifier)
    # every input is checked before anything is encoded: a typo should cost a second, not an encoding pass
    table = load_labels(labels)
    info = read_classifier_info(classifier)
    cfg = load_config(pipeline) if pipeline is not None else None
    texts, y = texts_and_labels(table)
    groups = table.column("group").to_pylist() if "group" in table.column_names else None

    spec = ScoringSpec()
    escalated_by = None
    if cfg is not None:
        # the run's own spec: every setting that moves scores (int8 does) is the one a run uses
        spec = cfg.classifier.spec
    if device is not None:
        spec = spec.replaced(device=device)
    if cfg is not None and cfg.blocklist.enabled:  # before scoring: a bad term file should fail in a second
        from filterkit.match.escalation import Escalator

        # the run's own escalation rule (term bar by length, semantic gate)
        escalated_by = Escalator(cfg.blocklist, cfg.semantic_gate)(texts).escalated_by()
    scores, errors = score_documents(classifier, texts, spec)
    cascade = Cascade(cfg, escalated_by, scores, errors) if cfg is not None else None

    res = _evaluate(scores, y, target_recall, n_boot, seed, cascade)
    cal = calibration_bins(scores[~errors], y[~errors])
    result: dict[str, Any] = {
        "labels": labels.name,
        "labels_sha256": file_sha256(labels),
        "classifier": info.name,
        "classifier_path": str(classifier),
        "head_threshold": info.threshold,  # config.json's threshold before this tuning
        "target_recall": float(target_recall),
        "n_pos": int(y.sum()),
        "n_neg": int(len(y) - y.sum()),
        "ignored_rows": int((table.schema.metadata or {}).get(b"ignored_rows", b"0")),
        "errors": int(errors.sum()),
        **{k: v for k, v in res.items() if not k.startswith("_")},
        "calibration": {
            "ece": expected_calibration_error(cal),
            "bins": cal,
            "above_threshold": calibration_bins(scores[~errors], y[~errors], n_bins=1, lo=res["threshold"])[0],
        },
        "groups": None,
        "cascade": None,
        "pipeline": str(pipeline) if pipeline is not None else None,
        "scoring": {
            "max_tokens": spec.max_tokens or info.folder.max_tokens,
            "long_docs": spec.long_docs,
            "runtime": spec.runtime,
            "precision": spec.precision,
        },
        "n_boot": int(n_boot),
        "seed": int(seed),
        "plots": None,
    }
    if groups is not None:
        result["groups"] = group_removal(groups, y, scores >= res["threshold"])
        if cascade is not None:
            for g, v in group_removal(groups, y, cascade.removed(res["threshold"])).items():
                result["groups"][g].update(cascade_removed=v["removed"], cascade_removal_rate=v["removal_rate"])
    if cascade is not None:
        result["cascade"] = {**cascade(y, res["threshold"]), **cascade.facts(classifier), "ci95": res["_cascade_ci"]}
    result = _json_safe(result)
    rule = (
        f"tuned by filterkit tune on {labels.name} (sha256 {result['labels_sha256'][:16]}): "
        f"recall >= {target_recall} on {result['n_pos']} positives, midway into the score gap below"
    )
    result["threshold_rule"] = rule
    if report_dir is not None:
        write_report(y, scores, errors, result, report_dir)
    if json_path is not None:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(json_path, json.dumps(result, indent=2, sort_keys=True) + "\n")
    if write_threshold:
        tuned_runtime = None
        if info.backend == "embedding":  # int8 moves scores: record which runtime this threshold fits
            from filterkit.classify.scoring_path import resolve_runtime

            tuned_runtime = "/".join(resolve_runtime(spec.device, spec.runtime, spec.precision, spec.cpu_int8)[1:])
        write_classifier_threshold(classifier, result["threshold"], rule, tuned_runtime)
    return result


class Cascade:
    """The pipeline's cascade on this labelled set, at any threshold: what the cheap stage found (escalated_by) once, scores
    fixed, decided by the run's own rule (:func:`filterkit.contract.decide_many`). Called with resample
    indices it gives the rates the bootstrap needs; without, the full metrics.
    """

    BOOT_KEYS = ("escalation_recall", "escalation_rate_neg", "recall", "fpr", "precision", "f1")

    def __init__(self, cfg, escalated_by: np.ndarray | None, scores: np.ndarray, errors: np.ndarray) -> None:
        self.bl, self.clf = cfg.blocklist, cfg.classifier
        # the threshold is the one being tuned (:meth:`_at` sets it), so the head's own is never read
        self.rule = Rule.from_config(cfg, head_threshold=0.0)
        self.escalated_by, self.scores, self.errors = escalated_by, scores, errors

    def _at(self, t: float, idx: np.ndarray | None) -> tuple:
        rule = dataclasses.replace(self.rule, threshold=float(t))
        if idx is None:
            return rule, self.escalated_by, self.scores, self.errors
        return rule, None if self.escalated_by is None else self.escalated_by[idx], self.scores[idx], self.errors[idx]

    def __call__(self, y: np.ndarray, t: float, idx: np.ndarray | None = None) -> dict[str, Any]:
        full = cascade_metrics(y, *self._at(t, idx))
        return full if idx is None else {k: full[k] for k in self.BOOT_KEYS}

    def removed(self, t: float) -> np.ndarray:
        return cascade_decisions(*self._at(t, None))[1]

    def facts(self, classifier: Path) -> dict[str, Any]:
        """What the reader must know to trust the cascade numbers: which list, which threshold a run uses."""
        notes = []
        if self.clf.threshold is not None:
            notes.append(
                f"this pipeline sets classifier.threshold: {self.clf.threshold}, which a run uses "
                "instead of the head's config.json threshold"
            )
        if Path(self.clf.path).resolve() != Path(classifier).resolve():
            notes.append(f"the pipeline's classifier is {self.clf.path}, not the tuned {classifier}")
        if not self.bl.enabled:
            notes.append("the blocklist is disabled: every document reaches the classifier")
        if not self.clf.enabled:
            notes.append("the classifier is disabled in this pipeline: the blocklist alone decides")
        return {
            "blocklist": Path(self.bl.path).name if self.bl.enabled else None,
            "min_unique_hits": self.bl.min_unique_hits,
            "short_doc_words": self.bl.short_doc_words,
            "short_min_unique_hits": self.bl.short_min_unique_hits,
            "pipeline_threshold": self.clf.threshold,
            "on_error": self.clf.on_error,
            "notes": notes,
        }
