"""``filterkit run`` as a library call: validate everything, build the datatrove pipeline, run it on the
configured executor, check conservation and write the manifest."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from filterkit import __version__
from filterkit.audit import RunInfo
from filterkit.blocklist import read_terms
from filterkit.config import PipelineConfig, file_sha256, load_config, stable_hash
from filterkit.errors import FilterkitError
from filterkit.heads import read_classifier_info
from filterkit.inputs import Shard, discover, validate
from filterkit.layout import LOCK_NAME, RunLayout, run_lock, write_json_atomic
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


def prepare(input_spec: str | Path, config: PipelineConfig | str | Path, out: str | Path) -> PreparedRun:
    """Validate inputs, config, blocklist and classifier; decide the run id. Writes nothing."""
    cfg = config if isinstance(config, PipelineConfig) else load_config(config)
    shards = discover(input_spec, cfg.input)
    for shard in shards:
        validate(shard, cfg.input)
    return plan(cfg, shards, out)


def plan(cfg: PipelineConfig, shards: list[Shard], out: str | Path) -> PreparedRun:
    """Hash what decides the outputs (settings, term list, head) into the config hash and run id."""
    fp: dict[str, Any] = {"config": cfg.active_dict()}
    classifier = classifier_sha = None
    threshold = None
    if cfg.blocklist.enabled:
        terms = read_terms(cfg.blocklist.path)
        fp["blocklist_sha256"] = stable_hash(terms)
    if cfg.semantic_gate.enabled:
        from filterkit.gate import gate_sha256, read_gate_config

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
    )
    return PreparedRun(cfg, shards, RunLayout(out), info, fp)


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
            raise FilterkitError(
                f"{layout.root}: holds a run over different input shards; use a new --out for this input"
            )
    elif layout.root.exists() and any(p.name != LOCK_NAME for p in layout.root.iterdir()):
        raise FilterkitError(f"{layout.root}: exists and is not a filterkit run folder; choose an empty --out")
    try:
        write_json_atomic(
            layout.run_file,
            {"run_id": prep.info.run_id, "config_sha256": prep.info.config_sha256, "filterkit": __version__},
        )
    except OSError as e:
        raise FilterkitError(
            f"{e.filename or layout.root}: cannot write the run folder ({e.strerror}); "
            "choose a writable --out (or free space on its disk)"
        ) from None


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
        # the jobs unpickle OUT/logs/executor.pik: this subclass keeps it owner-only (see filterkit.slurm)
        from filterkit.slurm import PrivateSlurmExecutor

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

    The run folder is locked for the whole call (:func:`filterkit.layout.run_lock`): a second run into
    the same ``--out`` is refused with the holder's host and pid instead of deleting this one's temp files.
    """
    with run_lock(prep.layout.root):
        return _execute_locked(prep, progress, capture_logs)


def _execute_locked(prep: PreparedRun, progress: ProgressFn | None, capture_logs: bool) -> RunResult:
    import shutil

    from filterkit.verify import redo_damaged

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


_PR_SET_PDEATHSIG = 1
_tie_state: dict[str, Any] = {"enabled": False, "parent": 0, "run": None}
_hook_installed = False


def _tie_to_parent() -> None:
    """In a helper process: be killed (SIGKILL) the moment the process that started it dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a no-op. If the parent already died between the
    fork and this call, exit now.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if _tie_state["parent"] and os.getppid() != _tie_state["parent"]:
        os._exit(1)  # reparented already: the parent died before the tie was made


def _before_fork() -> None:
    _tie_state["parent"] = os.getpid()


def _after_fork_in_child() -> None:
    if _tie_state["enabled"]:
        _tie_to_parent()


def _proc_identity(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None when it is gone; start time tells a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def _run_is_alive(pid: int, start: str | None) -> bool:
    if start is None:  # no /proc: a signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    ident = _proc_identity(pid)
    return ident is not None and ident[0] not in ("Z", "X") and ident[1] == start


_watchdog: list[threading.Thread] = []


def _die() -> None:
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def die_if_run_died() -> None:
    """In a pool worker, just before a shard's outputs are committed: if the run is gone, die now instead
    of finishing a shard into a folder whose lock is no longer held (the watchdog polls; this closes most of
    its window)."""
    run = _tie_state.get("run")
    if run and not _run_is_alive(*run):
        _die()


def tie_task_process(interval: float = 0.2) -> None:
    """Called where a task starts: in a worker process of this run (not the run itself), die with the run.

    datatrove's local pool uses the forkserver start method, so its workers are not forked by the run and
    the at-fork hook never sees them. Their parent, the forkserver, does not exit when the run dies either
    (each worker holds a copy of its liveness pipe), and a busy worker would finish its task writing into a
    run folder that is no longer locked. So a daemon thread here watches the run's pid (and start time)
    and kills this worker as soon as the run is gone.
    """
    host, _, pid = os.environ.get("FILTERKIT_RUN_PID", "").rpartition("@")
    run_pid = int(pid) if pid.isdigit() else 0
    if not run_pid or run_pid == os.getpid() or host != socket.gethostname() or _watchdog:
        return
    _tie_state["parent"] = os.getppid()
    _tie_to_parent()
    ident = _proc_identity(run_pid)
    if ident is None and sys.platform.startswith("linux"):
        os._exit(1)  # the run is already gone
    start = ident[1] if ident is not None else None

    _tie_state["run"] = (run_pid, start)

    def watch() -> None:
        while _run_is_alive(run_pid, start):
            time.sleep(interval)
        _die()

    t = threading.Thread(target=watch, name="filterkit-run-watchdog", daemon=True)
    t.start()
    _watchdog.append(t)


@contextlib.contextmanager
def helpers_die_with_run(enabled: bool = True):
    """While a run executes, every process it forks (datatrove's multiprocess Manager; fork-started pool
    workers), and every task worker, dies with it.

    Without this a SIGKILL or SIGTERM of ``filterkit run`` left datatrove's Manager server process (about
    70 MB, parent PID 1) alive for good. Children inherit the tie through ``PR_SET_PDEATHSIG``, which the
    kernel delivers however the parent dies. Local executor only: Slurm jobs (which inherit the submitting
    environment through ``--export=ALL``) and Ray workers outlive the submitting process by design.
    """
    global _hook_installed
    if not enabled:
        yield
        return
    if not _hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _hook_installed = True
    saved = os.environ.get("FILTERKIT_RUN_PID")
    os.environ["FILTERKIT_RUN_PID"] = f"{socket.gethostname()}@{os.getpid()}"
    _tie_state["enabled"] = True
    try:
        yield
    finally:
        _tie_state["enabled"] = False
        if saved is None:
            os.environ.pop("FILTERKIT_RUN_PID", None)
        else:
            os.environ["FILTERKIT_RUN_PID"] = saved


def _find_filterkit_error(e: BaseException) -> FilterkitError | None:
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, FilterkitError):
            return e
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
        seen += 1
    return None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("filterkit", "datatrove", "pyarrow", "torch", "sentence-transformers", "ahocorasick-rs", "duckdb"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _device(prep: PreparedRun) -> str:
    if not prep.config.classifier.enabled:
        return "none (blocklist only)"
    from filterkit.encoders import resolve_runtime

    c = prep.config.classifier
    try:  # the encoder runtime moves scores (int8), so the manifest names it
        dev, runtime, precision = resolve_runtime(c.device, c.runtime, c.precision, c.cpu_int8)
        ran = f", {runtime}/{precision}" if read_classifier_info(c.path).backend == "embedding" else ""
    except Exception:  # noqa: BLE001 - a fastText head or an invalid combination: the stage reports it
        dev, ran = ("cuda" if c.device == "cuda" else "cpu"), ""
    if dev == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)}{ran})"
    return f"cpu ({os.cpu_count()} cores{ran})"


def write_manifest(
    prep: PreparedRun, wall: float, resumed: list[str], redone: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """Merge per-shard stats, check read = kept + removed for every shard and overall, write manifest.json."""
    import json

    layout = prep.layout
    shards = []
    for s in prep.shards:
        marker = layout.done(s.out_name)
        if not marker.is_file():
            raise FilterkitError(f"{s.path}: the run ended but this shard has no done marker; re-run to finish it")
        st = json.loads(marker.read_text(encoding="utf-8"))
        if st["rows_read"] != st["kept"] + st["removed"] or st["rows_read"] != s.num_rows:
            raise FilterkitError(f"{s.path}: conservation violated (read {st['rows_read']}, kept {st['kept']}, "
                                 f"removed {st['removed']}); delete {marker} and re-run")
        shards.append(st)
    reasons = {r: sum(st["removed_by_reason"][r] for st in shards) for r in ("blocklist_terms", "classifier_score", "error")}
    read = sum(st["rows_read"] for st in shards)
    kept = sum(st["kept"] for st in shards)
    removed = sum(st["removed"] for st in shards)
    if read != kept + removed:
        raise FilterkitError(f"{layout.root}: read {read} != kept {kept} + removed {removed}")
    stage_seconds: dict[str, float] = {}
    for st in shards:
        for k, v in st["seconds"].items():
            stage_seconds[k] = stage_seconds.get(k, 0.0) + v
    processed = sum(st["rows_read"] for st in shards if st["shard"] not in resumed)
    mb = sum(st["text_chars"] for st in shards if st["shard"] not in resumed) / 1e6
    counts = {
        "read": read,
        "escalated": sum(st["escalated"] for st in shards),
        "removed_blocklist": reasons["blocklist_terms"],
        "removed_classifier": reasons["classifier_score"],
        "removed_error": reasons["error"],
        "removed": removed,
        "kept": kept,
        "conservation_ok": True,
    }
    manifest = {
        "run_id": prep.info.run_id,
        "config_sha256": prep.info.config_sha256,
        "config": prep.config.model_dump(mode="json"),
        "run_info": prep.info.to_dict(),
        "versions": _versions(),
        "device": _device(prep),
        "inputs": [
            {"name": s.name, "path": s.path, "format": s.format, "rows": s.num_rows, "bytes": s.size_bytes}
            for s in prep.shards
        ],
        "shards": shards,
        "counts": counts,
        "timing": {
            "wall_seconds": wall,
            "rows_processed_this_invocation": processed,
            "docs_per_second": processed / wall if wall > 0 else 0.0,
            "text_mb_per_second": mb / wall if wall > 0 else 0.0,
            "stage_seconds": stage_seconds,
            "resumed_shards": resumed,
            "redone_shards": redone or [],
        },
    }
    write_json_atomic(layout.manifest, manifest)
    return manifest


def run(
    input_spec: str | Path,
    config: PipelineConfig | str | Path,
    out: str | Path,
    progress: ProgressFn | None = None,
    capture_logs: bool = True,
) -> RunResult:
    """Filter INPUT with a pipeline config into ``out``: the library form of ``filterkit run``."""
    return execute(prepare(input_spec, config, out), progress=progress, capture_logs=capture_logs)
