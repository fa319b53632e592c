"""``filterkit run`` as a library call: validate everything, build the datatrove pipeline, run it on the
configured executor, check conservation and write the manifest."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from filterkit import __version__
from filterkit.store.rows import RunInfo
from filterkit.match.blocklist import read_terms
from filterkit.config import PipelineConfig, load_config
from filterkit.io import file_sha256, stable_hash
from filterkit.errors import FilterkitError
from filterkit.classify.base import read_classifier_info
from filterkit.data.shard import Shard
from filterkit.data.sources import discover
from filterkit.data.inputs import validate
from filterkit.store.layout import LOCK_NAME, RunLayout, run_lock
from filterkit.proc import helpers_die_with_run
from filterkit.runs.manifest import write_manifest
from filterkit.io import write_json_atomic
from filterkit.stages import BlocklistStage, ClassifierStage, ShardReader, ShardWriter

@dataclass(frozen=True)
class LiveCounts:
    """Where a run stands: finished shards from their done markers, unfinished ones from the tasks' live
    progress files (written about twice a second by the shard writer)."""

    done: int
    total: int
    escalated: int
    removed: int
    mb: float


ProgressFn = Callable[[LiveCounts], None]


def live_counts(prep: "PreparedRun") -> LiveCounts:
    """Rows, escalated and removed so far; cheap enough to call every half second."""
    done = escalated = removed = 0
    chars = 0.0
    finished: set[str] = set()
    for s in prep.shards:
        marker = prep.layout.done(s.out_name)
        if marker.is_file():
            try:
                st = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            finished.add(s.out_name)
            done += s.num_rows
            escalated += int(st.get("escalated", 0))
            removed += int(st.get("removed", 0))
            chars += s.size_bytes
    folder = prep.layout.progress_file(0).parent
    for f in folder.glob("*.json") if folder.is_dir() else ():
        try:
            p = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced right now
        if p.get("shard") in finished:
            continue
        done += int(p.get("rows", 0))
        escalated += int(p.get("escalated", 0))
        removed += int(p.get("removed", 0))
        chars += int(p.get("chars", 0))
    return LiveCounts(done, sum(s.num_rows for s in prep.shards), escalated, removed, chars / 1e6)


@dataclass
class RunResult:
    """What a finished run produced; ``counts`` is the manifest's counts section."""

    out: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest["counts"]


@dataclass
class PreparedRun:
    """Everything decided before any worker starts."""

    config: PipelineConfig
    shards: list[Shard]
    layout: RunLayout
    info: RunInfo
    fingerprint: dict[str, Any] = field(default_factory=dict)
    limit: dict[str, Any] | None = None  # what --limit cut (see limit_shards); recorded in the manifest


def prepare(
    input_spec: str | Path, config: PipelineConfig | str | Path, out: str | Path, limit: int | None = None
) -> PreparedRun:
    """Validate inputs, config, blocklist and classifier; decide the run id. Writes nothing.

    ``limit``: process only the first ``limit`` documents in input order (see :func:`limit_shards`); only
    those rows are validated, so a sample of a large corpus starts at once.
    """
    cfg = config if isinstance(config, PipelineConfig) else load_config(config)
    shards = discover(input_spec, cfg.input, limit=limit)
    cut = None
    if limit is not None:
        shards, cut = limit_shards(shards, limit)
    for shard in shards:
        validate(shard, cfg.input)
    return plan(cfg, shards, out, limit=cut)


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
    rest = shards[len(kept):]
    info = {
        "docs": limit,
        "rows_read": limit - max(left, 0),
        "cut_shard": cut_shard,
        "shards_left_out": len(rest),
        # None where shards past the cut were never opened (JSON lines are counted only by reading them)
        "rows_left_out": None if not all(s.counted for s in rest) else sum(s.num_rows for s in rest) + (
            cut_shard["rows_in_file"] - cut_shard["rows_read"] if cut_shard else 0),
    }
    return kept, info


def plan(cfg: PipelineConfig, shards: list[Shard], out: str | Path, limit: dict[str, Any] | None = None) -> PreparedRun:
    """Hash what decides the outputs (settings, term list, head) into the config hash and run id.

    ``limit`` is :func:`limit_shards`'s record of a cut, kept for the manifest; the cut itself is already in
    ``shards`` (their row counts enter the run id)."""
    fp: dict[str, Any] = {"config": cfg.active_dict()}
    classifier = classifier_sha = None
    threshold = None
    if cfg.blocklist.enabled:
        terms = read_terms(cfg.blocklist.path)
        fp["blocklist_sha256"] = stable_hash(terms)
    if cfg.semantic_gate.enabled:
        from filterkit.match.gate import gate_sha256, read_gate_config

        read_gate_config(cfg.semantic_gate.path)
        fp["semantic_gate_sha256"] = gate_sha256(cfg.semantic_gate.path)
    if cfg.classifier.enabled:
        info = read_classifier_info(cfg.classifier.path)
        classifier, classifier_sha = info.name, info.sha256
        threshold = float(cfg.classifier.threshold if cfg.classifier.threshold is not None else info.threshold)
        fp["classifier_sha256"] = classifier_sha
        if cfg.classifier.encoder_path is not None:
            weights = Path(cfg.classifier.encoder_path) / "model.safetensors"
            fp["encoder_sha256"] = file_sha256(weights) if weights.is_file() else str(cfg.classifier.encoder_path)
    config_sha = stable_hash(fp)
    inputs = [{"name": s.name, "rows": s.num_rows, "bytes": s.size_bytes} for s in shards]
    run_id = stable_hash({"config": config_sha, "inputs": inputs})[:16]
    info = RunInfo(
        run_id=run_id,
        config_sha256=config_sha,
        classifier=classifier,
        classifier_sha256=classifier_sha,
        threshold=threshold,
        min_unique_hits=cfg.blocklist.min_unique_hits if cfg.blocklist.enabled else None,
        gate_only_threshold=cfg.classifier.gate_only_threshold if cfg.semantic_gate.enabled else None,
        audit_text=cfg.output.audit_text,
        snippet_chars=cfg.output.snippet_chars,
        row_group_rows=cfg.output.row_group_rows,
        compression=cfg.output.compression,
        export_spans=cfg.classifier.enabled and cfg.classifier.export_spans,
    )
    return PreparedRun(cfg, shards, RunLayout(out), info, fp, limit)


def claim_out_dir(prep: PreparedRun) -> None:
    """A run folder belongs to one config and one input set; a rerun of the same resumes it.

    A folder whose run finished no shard (it failed on its first shard, say, on an over-long document) holds
    nothing worth keeping, so a corrected run with another config or input takes it over instead of being
    refused. A Slurm submission is never taken over: its jobs may still be queued.
    """
    layout = prep.layout
    if layout.root.exists() and not layout.root.is_dir():
        raise FilterkitError(f"{layout.root}: is a file, not a folder; pass a new or empty folder as --out")
    _recover_run_file(layout)
    if layout.run_file.is_file():
        prev = _read_run_file(layout)
        same = prev.get("config_sha256") == prep.info.config_sha256 and prev.get("run_id") == prep.info.run_id
        if not same and not _finished_nothing(layout):
            if prev.get("config_sha256") != prep.info.config_sha256:
                raise FilterkitError(
                    f"{layout.root}: holds a run with a different config (config_sha256 "
                    f"{str(prev.get('config_sha256'))[:12]}…); use a new --out, or delete that folder to start over"
                )
            limits = prev.get("limit"), _limit_docs(prep)
            if limits[0] != limits[1]:
                raise FilterkitError(f"{layout.root}: holds a run of {_docs_read(limits[0])}, and this one reads "
                                     f"{_docs_read(limits[1])}; use a new --out for it")
            raise FilterkitError(
                f"{layout.root}: holds a run over different input shards; use a new --out for this input"
            )
    elif layout.root.exists() and any(p.name != LOCK_NAME for p in layout.root.iterdir()):
        raise FilterkitError(f"{layout.root}: exists and is not a filterkit run folder; choose an empty --out")
    try:
        write_json_atomic(
            layout.run_file,
            {"run_id": prep.info.run_id, "config_sha256": prep.info.config_sha256, "filterkit": __version__,
             **({"limit": _limit_docs(prep)} if prep.limit else {})},
        )
    except OSError as e:
        raise FilterkitError(
            f"{e.filename or layout.root}: cannot write the run folder ({e.strerror}); "
            "choose a writable --out (or free space on its disk)"
        ) from None


def _limit_docs(prep: PreparedRun) -> int | None:
    return prep.limit["docs"] if prep.limit else None


def _docs_read(limit: int | None) -> str:
    return "all documents" if limit is None else f"the first {limit:,} documents (--limit {limit})"


def _recover_run_file(layout: RunLayout) -> None:
    """Finish or undo a ``run.json`` write cut off before its rename (only ``run.json.tmp`` is left)."""
    import json

    tmp = layout.run_file.with_name(layout.run_file.name + ".tmp")
    if layout.run_file.is_file() or not tmp.is_file():
        return
    try:
        whole = isinstance(json.loads(tmp.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        whole = False
    try:
        if whole:  # written and fsynced before the rename: complete it
            os.replace(tmp, layout.run_file)
        else:  # torn while being written, so nothing after it ran
            tmp.unlink()
    except OSError as e:
        raise FilterkitError(f"{tmp}: cannot recover it ({e.strerror}); delete it and re-run") from None


def _read_run_file(layout: RunLayout) -> dict[str, Any]:
    import json

    try:
        prev = json.loads(layout.run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return prev if isinstance(prev, dict) else {}


def _finished_nothing(layout: RunLayout) -> bool:
    """No done marker, no output file and no Slurm submission: the folder's run left nothing to resume."""
    root = layout.root
    slurm = (layout.logs / "executor.pik").exists() or (root / ".state" / "slurm.json").exists()
    if slurm or any((root / ".state" / "done").glob("*.json")):
        return False
    return not any(any((root / kind).rglob("*.parquet")) for kind in ("kept", "audit", "scores"))


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
    steps.append(ShardWriter(prep.shards, prep.layout, prep.info, cfg.input, timed, output_format=cfg.output.format))
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
    with open(path, "a", encoding="utf-8") as f:
        os.dup2(f.fileno(), 2)
        sys.stderr = f  # loguru sinks added during the run bind to this object
        try:
            yield
        finally:
            sys.stderr = saved_obj
            f.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


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
    redone = redo_damaged(prep.layout, [s.out_name for s in prep.shards])
    if prep.config.executor.kind == "slurm":
        queued = _slurm_still_queued(prep)
        if queued is not None:
            return queued
    # local and Ray runs finish inside this call, so leftover temp files are a killed attempt's; Slurm jobs
    # may still be running from an earlier submission, and each task clears only its own folder
    in_process = prep.config.executor.kind != "slurm"
    if in_process:
        shutil.rmtree(prep.layout.root / ".state" / "tmp", ignore_errors=True)
        shutil.rmtree(prep.layout.root / ".state" / "progress", ignore_errors=True)  # a killed attempt's counts
    total = sum(s.num_rows for s in prep.shards)
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
        with _stderr_to(prep.layout.logs / "run.stderr.log", capture_logs), \
                helpers_die_with_run(prep.config.executor.kind == "local"):
            try:
                executor.run()
            finally:
                _record_slurm_job(prep, executor)
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


SLURM_JOBS = Path(".state") / "slurm.json"


def slurm_jobs_active(job_ids: list[str]) -> list[str]:
    """Those of ``job_ids`` that ``squeue`` still lists (queued or running); tests replace this function."""
    import subprocess

    active = []
    for job in job_ids:
        try:
            r = subprocess.run(["squeue", "-h", "-o", "%i", "-j", job], capture_output=True, text=True, timeout=120)
        except (FileNotFoundError, subprocess.TimeoutExpired) as e:
            raise FilterkitError(
                f"cannot ask Slurm whether job {job} of this run is still queued ({type(e).__name__} running "
                "squeue); re-run where squeue works, or delete .state/slurm.json in the run folder if that job "
                "has ended"
            ) from None
        if r.returncode != 0:
            if "invalid job id" in r.stderr.lower():  # long finished and purged from the controller
                continue
            raise FilterkitError(f"squeue -j {job} failed: {(r.stderr.strip() or '?').splitlines()[0]}; "
                                 "re-run when Slurm answers")
        if r.stdout.split():
            active.append(job)
    return active


def _slurm_still_queued(prep: PreparedRun) -> RunResult | None:
    """A re-run while this run's Slurm jobs are queued or running reports them instead of resubmitting."""
    import json

    path = prep.layout.root / SLURM_JOBS
    missing = [s.name for s in prep.shards if not prep.layout.is_done(s.out_name)]
    if not missing or not path.is_file():
        return None
    try:
        jobs = [str(j) for j in json.loads(path.read_text(encoding="utf-8"))["job_ids"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    active = slurm_jobs_active(jobs)
    if not active:
        return None
    return RunResult(prep.layout.root, {"submitted": True, "already_queued": active, "pending_shards": missing})


def _record_slurm_job(prep: PreparedRun, executor: Any) -> None:
    job = getattr(executor, "job_id", None)
    if prep.config.executor.kind == "slurm" and job not in (None, -1, "-1"):
        # datatrove chains array jobs with afterany, so the last id outlives the others
        write_json_atomic(prep.layout.root / SLURM_JOBS, {"job_ids": [str(job)]})


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
