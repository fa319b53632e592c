"""``filterkit run`` as a library call: validate everything, build the datatrove pipeline, run it on the
configured executor, check conservation and write the manifest."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from filterkit.classify.registry import read_classifier_info
from filterkit.config import PipelineConfig, load_config
from filterkit.contract import Rule
from filterkit.data.inputs import validate
from filterkit.data.shard import Shard
from filterkit.data.sources import discover
from filterkit.errors import FilterkitError
from filterkit.io import file_sha256, stable_hash
from filterkit.match.blocklist import read_terms
from filterkit.proc import helpers_die_with_run
from filterkit.runs.folder import claim_out_dir
from filterkit.runs.manifest import write_manifest
from filterkit.runs.prepared import PreparedRun, RunResult
from filterkit.runs.progress import ProgressFn, live_counts
from filterkit.runs.slurm import record_job, still_queued
from filterkit.stages import BlocklistStage, ClassifierStage, ShardReader, ShardWriter
from filterkit.store.layout import RunLayout, run_lock
from filterkit.store.rows import RunInfo


def prepare(
    input_spec: str | Path,
    config: PipelineConfig | str | Path,
    out: str | Path,
    limit: int | None = None,
    fingerprint: bool = True,
) -> PreparedRun:
    """Validate inputs, config, blocklist and classifier; decide the run id. Writes nothing.

    ``limit``: process only the first ``limit`` documents in input order (see :func:`limit_shards`); only
    those rows are validated, so a sample of a large corpus starts at once. ``fingerprint=False`` (``--dry-run``)
    skips hashing the inputs: the run id is then left empty.
    """
    cfg = config if isinstance(config, PipelineConfig) else load_config(config)
    shards = discover(input_spec, cfg.input, limit=limit)
    cut = None
    if limit is not None:
        shards, cut = limit_shards(shards, limit)
    for shard in shards:
        validate(shard, cfg.input)
    return plan(cfg, shards, out, limit=cut, fingerprint=fingerprint)


def limit_shards(shards: list[Shard], limit: int) -> tuple[list[Shard], dict[str, Any]]:
    """The shards holding the first ``limit`` documents in input order (shards sorted by name, rows in file
    order), and what was left out, as the manifest records it.

    Every shard before the cut is whole; the one that crosses ``limit`` is cut to its first rows
    (:attr:`Shard.limit`), and later shards are not read at all. Deterministic: the same input and limit give
    the same documents, so the same kept shards.
    """
    if limit < 1:
        raise FilterkitError(f"--limit {limit}: give a positive number of documents")
    from dataclasses import replace

    kept: list[Shard] = []
    left = limit
    cut_shard = None
    for s in shards:
        if left <= 0:
            break
        if s.num_rows > left:
            kept.append(replace(s, num_rows=left, limit=left))
            cut_shard = {"name": s.name, "rows_read": left, "rows_in_file": s.num_rows}
            left = 0
            break
        kept.append(s)
        left -= s.num_rows
    rest = shards[len(kept) :]
    info = {
        "docs": limit,
        "rows_read": limit - max(left, 0),
        "cut_shard": cut_shard,
        "shards_left_out": len(rest),
        # None where shards past the cut were never opened (JSON lines are counted only by reading them)
        "rows_left_out": None
        if not all(s.counted for s in rest)
        else sum(s.num_rows for s in rest) + (cut_shard["rows_in_file"] - cut_shard["rows_read"] if cut_shard else 0),
    }
    return kept, info


def plan(
    cfg: PipelineConfig,
    shards: list[Shard],
    out: str | Path,
    limit: dict[str, Any] | None = None,
    fingerprint: bool = True,
    scored_on: str | None = "here",
) -> PreparedRun:
    """Hash what decides the outputs (settings, term list, head) into the config hash and run id.

    ``limit`` is :func:`limit_shards`'s record of a cut, kept for the manifest; the cut itself is already in
    ``shards`` (their row counts enter the run id). Every input's content fingerprint (size and sha256,
    :mod:`filterkit.data.fingerprint`) enters the run id too, so a folder names exactly what it filtered, and so
    does the classifier's device/runtime/precision as resolved on this machine (``scored_on``: the path scores
    were computed on elsewhere, for ``rethreshold``)."""
    from filterkit.store.paths import check_shard_names

    check_shard_names(shards)  # every output path stays inside --out, and every name fits the filesystem
    if fingerprint:
        from filterkit.data.fingerprint import fingerprint_shards

        shards = fingerprint_shards(shards)
    fp: dict[str, Any] = {"config": cfg.active_dict()}
    classifier = classifier_sha = scoring = head_threshold = None
    if cfg.blocklist.enabled:
        terms = read_terms(cfg.blocklist.path)
        fp["blocklist_sha256"] = stable_hash(terms)
    if cfg.semantic_gate.enabled:
        from filterkit.match.gate import gate_sha256, read_gate_config

        read_gate_config(cfg.semantic_gate.path)
        fp["semantic_gate_sha256"] = gate_sha256(cfg.semantic_gate.path)
    if cfg.classifier.enabled:
        head = read_classifier_info(cfg.classifier.path)
        classifier, classifier_sha, head_threshold = head.name, head.sha256, head.threshold
        fp["classifier_sha256"] = classifier_sha
        from filterkit.classify.scoring_path import planned_scoring_path

        scoring = planned_scoring_path(cfg) if scored_on == "here" else scored_on
        if scoring is not None:  # CPU and CUDA score through different arithmetic: a folder holds one of them
            fp["scoring"] = scoring
        if cfg.classifier.encoder_path is not None:
            from filterkit.classify.safe_weights import require_safetensors

            weights = require_safetensors(cfg.classifier.encoder_path)  # pickles refused before any worker starts
            fp["encoder_sha256"] = file_sha256(weights) if weights.is_file() else str(cfg.classifier.encoder_path)
    config_sha = stable_hash(fp)
    inputs = [{"name": s.name, "rows": s.num_rows, "bytes": s.size_bytes, "sha256": s.sha256} for s in shards]
    run_id = stable_hash({"config": config_sha, "inputs": inputs})[:16] if fingerprint else ""
    info = RunInfo(
        run_id=run_id,
        config_sha256=config_sha,
        rule=Rule.from_config(cfg, head_threshold),
        output=cfg.output,
        classifier=classifier,
        classifier_sha256=classifier_sha,
        min_unique_hits=cfg.blocklist.min_unique_hits if cfg.blocklist.enabled else None,
        export_spans=cfg.classifier.enabled and cfg.classifier.export_spans,
        scoring=scoring,
    )
    return PreparedRun(cfg, shards, RunLayout(out), info, fp, limit)


def build_pipeline(prep: PreparedRun) -> list:
    """The datatrove steps of this run: reader → blocklist → classifier → writer."""
    cfg = prep.config
    steps: list = [ShardReader(prep.shards, cfg.input, prep.layout)]
    timed = []
    if cfg.blocklist.enabled:
        bl = BlocklistStage.from_config(cfg, drop_removed=False)
        steps.append(bl)
        timed.append(bl)
    if cfg.classifier.enabled:
        clf = ClassifierStage.from_config(cfg, drop_removed=False)
        steps.append(clf)
        timed.append(clf)
    steps.append(ShardWriter(prep.shards, prep.layout, prep.info, cfg.input, timed))
    return steps


def build_executor(prep: PreparedRun, steps: list):
    """One of datatrove's executors, as the config says. Shards are assigned to tasks by the reader."""
    ex = prep.config.executor
    logs = str(prep.layout.logs)
    tasks = min(ex.tasks, max(len(prep.shards), 1))
    if ex.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        # skip_completed=False: completion is tracked per shard by our done markers, which survive a
        # change in task count; datatrove's per-rank markers would not.
        return LocalPipelineExecutor(
            pipeline=steps, tasks=tasks, workers=min(ex.workers, tasks), logging_dir=logs, skip_completed=False
        )
    if ex.kind == "slurm":
        # the jobs unpickle OUT/logs/executor.pik: this subclass keeps it owner-only (see filterkit.runs.slurm)
        from filterkit.runs.slurm import PrivateSlurmExecutor

        s = ex.slurm
        return PrivateSlurmExecutor(
            pipeline=steps,
            tasks=tasks,
            time=s.time,
            partition=s.partition,
            cpus_per_task=s.cpus_per_task,
            mem_per_cpu_gb=s.mem_per_cpu_gb,
            gpus_per_task=s.gpus_per_task,
            job_name=f"filterkit-{prep.info.run_id[:8]}",
            logging_dir=logs,
            skip_completed=False,
            venv_path=str(Path(sys.prefix) / "bin" / "activate") if sys.prefix != sys.base_prefix else None,
            sbatch_args=dict(s.sbatch_args),
        )
    from datatrove.executor import RayPipelineExecutor

    r = ex.ray
    return RayPipelineExecutor(
        pipeline=steps,
        tasks=tasks,
        workers=ex.workers,
        cpus_per_task=r.cpus_per_task,
        mem_per_cpu_gb=r.mem_per_cpu_gb,
        logging_dir=logs,
        skip_completed=False,
        **({"gpus_per_task": r.gpus_per_task} if r.gpus_per_task else {}),
    )


@contextlib.contextmanager
def _stderr_to(path: Path, enabled: bool):
    """Send datatrove's and torch's chatter (fd 2, so worker processes too) to a log file."""
    if not enabled:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved_fd, saved_obj = os.dup(2), sys.stderr
    f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - fd 2 points at it until the finally below closes it
    os.dup2(f.fileno(), 2)
    sys.stderr = f  # loguru sinks added during the run bind to this object
    try:
        yield
    finally:
        # fd 2 first: on a full disk the log's flush fails, and the error line must still reach the user
        sys.stderr = saved_obj
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        with contextlib.suppress(OSError):  # the log loses its tail; the run's own outcome stands
            f.flush()
        with contextlib.suppress(OSError):
            f.close()


def execute(prep: PreparedRun, progress: ProgressFn | None = None, capture_logs: bool = True) -> RunResult:
    """Run a prepared pipeline to completion (resuming finished shards) and write the manifest.

    The run folder is locked for the whole call (:func:`filterkit.store.layout.run_lock`): a second run into
    the same ``--out`` is refused with the holder's host and pid instead of deleting this one's temp files.
    """
    with run_lock(prep.layout.root):
        return _execute_locked(prep, progress, capture_logs)


def _execute_locked(prep: PreparedRun, progress: ProgressFn | None, capture_logs: bool) -> RunResult:
    import shutil

    from filterkit.runs.verify import redo_damaged

    claim_out_dir(prep)
    # a done shard whose outputs were deleted, truncated or replaced since is redone, not trusted
    redone = redo_damaged(prep.layout, [s.out_name for s in prep.shards], prep.shards)
    if prep.config.executor.kind == "slurm":
        queued = still_queued(prep)
        if queued is not None:
            return RunResult(prep.layout.root, queued)
    # local and Ray runs finish inside this call, so leftover temp files are a killed attempt's; Slurm jobs
    # may still be running from an earlier submission, and each task clears only its own folder
    in_process = prep.config.executor.kind != "slurm"
    if in_process:
        shutil.rmtree(prep.layout.root / ".state" / "tmp", ignore_errors=True)
        shutil.rmtree(prep.layout.root / ".state" / "progress", ignore_errors=True)  # a killed attempt's counts
    t0 = time.perf_counter()
    resumed = [s.name for s in prep.shards if prep.layout.is_done(s.out_name)]
    steps = build_pipeline(prep)
    executor = build_executor(prep, steps)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            progress(live_counts(prep))  # type: ignore[misc]

    poller = threading.Thread(target=poll, daemon=True) if progress else None
    if poller:
        poller.start()
    try:
        with (
            _stderr_to(prep.layout.logs / "run.stderr.log", capture_logs),
            helpers_die_with_run(prep.config.executor.kind == "local"),
        ):
            try:
                executor.run()
            finally:
                record_job(prep, executor)
    except FilterkitError:
        raise
    except Exception as e:
        cause = _find_filterkit_error(e)
        if cause is not None:
            raise cause from None
        raise
    finally:
        stop.set()
        if poller:
            poller.join()
        if in_process:
            shutil.rmtree(prep.layout.root / ".state" / "tmp", ignore_errors=True)
    if progress:
        progress(live_counts(prep))
    if prep.config.executor.kind == "slurm":
        missing = [s.name for s in prep.shards if not prep.layout.is_done(s.out_name)]
        if missing:  # jobs were submitted, not run here: the manifest comes when they finish
            return RunResult(prep.layout.root, {"submitted": True, "pending_shards": missing})
    manifest = write_manifest(prep, time.perf_counter() - t0, resumed, redone)
    return RunResult(prep.layout.root, manifest)


def _find_filterkit_error(e: BaseException) -> FilterkitError | None:
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, FilterkitError):
            return e
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
        seen += 1
    return None


def run(
    input_spec: str | Path,
    config: PipelineConfig | str | Path,
    out: str | Path,
    progress: ProgressFn | None = None,
    capture_logs: bool = True,
    limit: int | None = None,
) -> RunResult:
    """Filter INPUT with a pipeline config into ``out``: the library form of ``filterkit run``.

    ``limit``: only the first ``limit`` documents in input order (``filterkit run --limit``)."""
    return execute(prepare(input_spec, config, out, limit=limit), progress=progress, capture_logs=capture_logs)
