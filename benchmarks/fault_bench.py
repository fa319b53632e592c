"""Fault run: SIGKILL `filterkit run` at random moments, resume, and count what was lost, duplicated or orphaned.

A 12-shard input with a unique id per row is filtered with the blocklist-only pipeline. The same command is
started again and again and SIGKILLed a random delay after its first document reached the shard writer (so
past start-up, inside the run: reading, filtering, writing, renaming or starting the next shard), alternating one in-process task and a 2-worker datatrove
pool so both kinds of helper process are exercised; then it is run once more to the end.
Checked afterwards:

* documents lost / duplicated: every input id must appear exactly once across ``kept/`` and ``audit/``;
* the outputs are byte-identical to a clean, uninterrupted run; ``filterkit verify`` passes;
* orphans: processes descended from a killed run (snapshot just before each kill) still alive 3 s after it.

    python benchmarks/fault_bench.py [--kills 10] [--rows 60000] [--max-delay 3.0] [--seed 0] [--json out.json]

``--case swap`` and ``--case reexport`` run the input faults of issue 20 instead (``benchmarks/input_faults.py``):
an input replaced during a run, and one re-exported after it; ``--trials`` of each, counting rows in ``kept/``
that nobody scored.

    python benchmarks/fault_bench.py --case swap --trials 10 --rows 20000 --json swap.json
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import GENERAL, PROXY  # noqa: E402

N_SHARDS = 12


def make_input(folder: Path, rows: int) -> list[str]:
    docs = GENERAL + PROXY + [" ".join(PROXY)]
    ids = []
    for i in range(N_SHARDS):
        shard_ids = [f"s{i:02d}-{j:07d}" for j in range(rows)]
        texts = [f"{docs[(i + j) % len(docs)]} ({j})" for j in range(rows)]
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"id": shard_ids, "text": texts}), folder / f"part-{i:03d}.parquet")
        ids += shard_ids
    return ids


def pipeline(folder: Path, workers: int) -> Path:
    blocklist = ROOT / "classifiers" / "blocklist" / "biorisk-proxy.txt"
    p = folder / f"blocklist-only-w{workers}.yaml"
    p.write_text(
        f"name: blocklist-only\nblocklist:\n  path: {blocklist}\n  min_unique_hits: 2\n  mode: remove\n"
        f"classifier:\n  enabled: false\nexecutor:\n  tasks: 4\n  workers: {workers}\n",
        encoding="utf-8",
    )
    return p


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live (non-zombie) process, from /proc (also used by the tests)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            out[int(entry.name)] = (int(fields[1]), cmd)
    return out


def descendants(root: int, procs: dict[int, tuple[int, str]]) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in procs.items() if ppid in frontier} - found
        found |= frontier
    return found


def cmd(inp: Path, pipe: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "filterkit.cli", "run", str(inp), "-p", str(pipe), "-o", str(out), "--quiet"]


def outputs(out: Path) -> dict[str, bytes]:
    return {f"{s}/{p.name}": p.read_bytes() for s in ("kept", "audit", "scores") for p in sorted((out / s).glob("*"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--rows", type=int, default=60_000, help="rows per shard")
    ap.add_argument("--min-delay", type=float, default=0.0, help="seconds after processing started")
    ap.add_argument("--max-delay", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--case", choices=("kill", "swap", "reexport"), default="kill")
    ap.add_argument("--trials", type=int, default=10, help="--case swap / reexport: trials")
    args = ap.parse_args()
    if args.case != "kill":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from input_faults import run_input_faults

        res = run_input_faults(args.case, args.trials, args.rows, args.max_delay, args.seed)
        print(
            f"{args.case}: {res['trials']} trials on {res['shards']} shards of {res['rows_per_shard']:,} rows: "
            f"{res['unscored_rows_in_kept']} unscored rows in kept/"
        )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
            print(f"wrote {args.json}")
        return
    rng = random.Random(args.seed)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    with tempfile.TemporaryDirectory(prefix="fault_bench_") as tmp:
        tmp = Path(tmp)
        ids = make_input(tmp / "in", args.rows)
        pipes = {w: pipeline(tmp, w) for w in (1, 2)}
        t = time.perf_counter()
        subprocess.run(cmd(tmp / "in", pipes[1], tmp / "clean"), env=env, check=True, stdout=subprocess.DEVNULL)
        clean_wall = time.perf_counter() - t

        out = tmp / "killed"
        done = out / ".state" / "done"
        kills, orphans = [], []
        attempt = 0
        while len(kills) < args.kills:
            attempt += 1
            workers = 1 if attempt % 2 else 2
            delay = rng.uniform(args.min_delay, args.max_delay)
            before = len(list(done.glob("*.json"))) if done.is_dir() else 0
            errf = tmp / f"stderr-{attempt}.log"  # a file, not a pipe: an orphan holding the pipe would block us
            with open(errf, "wb") as ef:
                proc = subprocess.Popen(
                    cmd(tmp / "in", pipes[workers], out), env=env, stdout=subprocess.DEVNULL, stderr=ef
                )
            tmp_dirs = out / ".state" / "tmp"  # a task folder appears when its first document reaches the writer
            deadline = time.time() + 120
            while proc.poll() is None and time.time() < deadline and not any(tmp_dirs.glob("task-*")):
                time.sleep(0.01)
            time.sleep(delay)
            helpers = descendants(proc.pid, processes())
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if proc.returncode != -signal.SIGKILL:  # it finished (or failed) first: not a kill
                if proc.returncode != 0:
                    raise SystemExit(f"run failed before the kill: {errf.read_text()[-500:]}")
                print(f"attempt {attempt}: run finished before the kill at {delay:.2f}s; starting over on a new folder")
                out = tmp / f"killed-{attempt}"
                done = out / ".state" / "done"
                kills.clear()
                continue
            time.sleep(3.0)
            alive = {pid: processes()[pid][1][:120] for pid in helpers & set(processes())}
            for pid in alive:  # clean up so one failure does not poison the next attempt
                os.kill(pid, signal.SIGKILL)
            after = len(list(done.glob("*.json"))) if done.is_dir() else 0
            kills.append(
                {
                    "delay_s": round(delay, 2),
                    "workers": workers,
                    "helpers": len(helpers),
                    "orphans": len(alive),
                    "shards_done_before": before,
                    "shards_done_after": after,
                }
            )
            orphans += list(alive.values())
            print(
                f"kill {len(kills)}: after {delay:.2f}s (workers={workers}): {len(helpers)} helper(s), "
                f"{len(alive)} orphan(s), shards done {before} -> {after}"
            )

        t = time.perf_counter()
        final = subprocess.run(cmd(tmp / "in", pipes[2], out) + ["--json"], env=env, capture_output=True, text=True)
        resume_wall = time.perf_counter() - t
        if final.returncode != 0:
            raise SystemExit(f"resume failed: {final.stderr[-800:]}")
        counts = json.loads(final.stdout.strip().splitlines()[-1])

        seen = collections.Counter()
        for sub, col in (("kept", "id"), ("audit", "doc_id")):
            for f in (out / sub).glob("*.parquet"):
                seen.update(pq.read_table(f, columns=[col]).column(col).to_pylist())
        expected = set(ids)
        lost = len(expected - set(seen))
        duplicated = sum(n - 1 for n in seen.values() if n > 1)
        unexpected = len(set(seen) - expected)
        identical = outputs(out) == outputs(tmp / "clean")
        verify = subprocess.run(
            [sys.executable, "-m", "filterkit.cli", "verify", str(out)], env=env, capture_output=True, text=True
        )

    result = {
        "shards": N_SHARDS,
        "rows": N_SHARDS * args.rows,
        "kills": len(kills),
        "kills_with_progress": sum(k["shards_done_after"] > k["shards_done_before"] for k in kills),
        "clean_run_wall_s": round(clean_wall, 2),
        "resume_wall_s": round(resume_wall, 2),
        "documents_lost": lost,
        "documents_duplicated": duplicated,
        "documents_unexpected": unexpected,
        "orphans": len(orphans),
        "orphan_commands": orphans,
        "byte_identical_to_clean_run": identical,
        "verify_exit_code": verify.returncode,
        "final_counts": counts,
        "kill_log": kills,
        "seed": args.seed,
    }
    print(
        f"{len(kills)} SIGKILLs on a {N_SHARDS}-shard input ({N_SHARDS * args.rows:,} rows), then resume: "
        f"lost {lost}, duplicated {duplicated}, orphans {len(orphans)}, byte-identical {identical}, "
        f"verify exit {verify.returncode}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
