"""Input faults for ``fault_bench.py``: an input replaced during a run, and one re-exported after it.

Inputs are benign general texts; the replacement content is proxy text the blocklist-only pipeline
(``mode: remove``, >= 2 unique terms) removes whenever it is actually matched, each text tagged ``[swap N]``.
So a tagged text in ``kept/`` is a document nobody scored — the failure issue 20 is about — and the count of
them is the measure (target: 0 in every trial).

* **swap**: ``filterkit run`` is started; a random delay after its first document reaches the shard writer,
  one shard (at random) is replaced by a file with the same name and row count, alternately renamed over it
  and rewritten in place. The run either fails that shard with one line, or finishes having scored what it
  read; then the same command is run again to the end. Unscored rows are counted after both.
* **reexport**: a run finishes; then one shard is re-exported under the same name and row count with k random
  rows replaced by proxy texts — alternately a new file and an in-place edit of the same size (uncompressed,
  unencoded parquet). Then ``rethreshold --min-unique-hits 3``, a re-run of the same command and ``verify``
  are run on the folder; unscored rows are counted in the rethreshold's and the run folder's ``kept/``.
"""

from __future__ import annotations

import os
import random
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

PROXY_DOC = " ".join(PROXY)
N_SHARDS = 4


def _pipeline(folder: Path) -> Path:
    p = folder / "bl.yaml"
    p.write_text(
        f"blocklist:\n  path: {ROOT / 'classifiers' / 'blocklist' / 'biorisk-proxy.txt'}\n"
        "  min_unique_hits: 2\n  mode: remove\nclassifier:\n  enabled: false\n",
        encoding="utf-8",
    )
    return p


def _write(path: Path, texts: list[str], plain: bool = False) -> None:
    table = pa.table({"id": [f"{path.stem}-{j}" for j in range(len(texts))], "text": texts})
    tmp = path.with_name(path.name + ".new")
    pq.write_table(table, tmp, compression="none" if plain else "snappy", use_dictionary=not plain)
    os.replace(tmp, path)


def _general(rows: int, seed: int) -> list[str]:
    return [f"{GENERAL[(seed + j) % len(GENERAL)]} ({j:07d})" for j in range(rows)]


def _swap_texts(rows: int) -> list[str]:
    return [f"{PROXY_DOC} [swap {j:07d}]" for j in range(rows)]


def unscored(out: Path) -> int:
    """Rows in ``out/kept`` holding replacement (never scored) text."""
    n = 0
    for f in sorted((out / "kept").rglob("*.parquet")) if (out / "kept").is_dir() else []:
        n += sum("[swap " in t for t in pq.read_table(f, columns=["text"]).column("text").to_pylist())
    return n


def _cli(*args: object, env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "filterkit.cli", *map(str, args)], env=env, capture_output=True, text=True, **kw
    )


def _error(res: subprocess.CompletedProcess) -> str:
    lines = [line for line in res.stderr.splitlines() if line.startswith(("error:", "bad:"))]
    return lines[0][:200] if lines else res.stderr.strip()[-200:]


def swap_trial(tmp: Path, rows: int, rng: random.Random, max_delay: float, in_place: bool, env: dict) -> dict:
    inp = tmp / "in"
    inp.mkdir(parents=True)
    for i in range(N_SHARDS):
        _write(inp / f"part-{i:03d}.parquet", _general(rows, i))
    pipe, out = _pipeline(tmp), tmp / "out"
    victim = inp / f"part-{rng.randrange(N_SHARDS):03d}.parquet"
    delay = rng.uniform(0, max_delay)
    errf = open(tmp / "stderr.log", "w+")  # noqa: SIM115 - the child writes it; read back below
    proc = subprocess.Popen(
        [sys.executable, "-m", "filterkit.cli", "run", str(inp), "-p", str(pipe), "-o", str(out), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errf,
        text=True,
    )
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline and not any((out / ".state" / "tmp").glob("task-*")):
        time.sleep(0.01)
    time.sleep(delay)
    swapped_while_running = proc.poll() is None
    if in_place:  # truncate and rewrite the same inode
        buf = pa.BufferOutputStream()
        pq.write_table(pa.table({"id": [f"{victim.stem}-{j}" for j in range(rows)], "text": _swap_texts(rows)}), buf)
        with open(victim, "r+b") as f:
            f.truncate(0)
            f.write(buf.getvalue().to_pybytes())
    else:
        _write(victim, _swap_texts(rows))
    rc = proc.wait()
    errf.seek(0)
    first_err = next((line for line in errf.read().splitlines() if line.startswith("error:")), "")
    after_first = unscored(out)
    again = _cli("run", inp, "-p", pipe, "-o", out, "--quiet", env=env, timeout=600)
    verify = _cli("verify", out, env=env)
    return {
        "delay_s": round(delay, 2),
        "victim": victim.name,
        "in_place": in_place,
        "swapped_while_running": swapped_while_running,
        "first_rc": rc,
        "first_error": first_err[:200],
        "unscored_after_first": after_first,
        "rerun_rc": again.returncode,
        "rerun_error": _error(again) if again.returncode else "",
        "unscored_after_rerun": unscored(out),
        "verify_rc": verify.returncode,
    }


def _edit_in_place(path: Path, row: int, new: str) -> None:
    """Overwrite row ``row``'s text bytes with ``new`` (same byte length) in an unencoded parquet file."""
    raw = bytearray(path.read_bytes())
    old = pq.read_table(path, columns=["text"]).column("text")[row].as_py().encode()
    data = new.encode()
    assert len(data) == len(old)
    at = raw.index(old)
    raw[at : at + len(old)] = data
    path.write_bytes(bytes(raw))


def reexport_trial(tmp: Path, rows: int, rng: random.Random, same_size: bool, env: dict) -> dict:
    inp = tmp / "in"
    inp.mkdir(parents=True)
    for i in range(N_SHARDS):
        _write(inp / f"part-{i:03d}.parquet", _general(rows, i), plain=True)
    pipe, out = _pipeline(tmp), tmp / "out"
    first = _cli("run", inp, "-p", pipe, "-o", out, "--quiet", env=env, timeout=600)
    if first.returncode != 0:
        raise SystemExit(f"clean run failed: {first.stderr[-500:]}")
    victim = inp / f"part-{rng.randrange(N_SHARDS):03d}.parquet"
    texts = pq.read_table(victim, columns=["text"]).column("text").to_pylist()
    changed = sorted(rng.sample(range(rows), k=min(rows, rng.randint(1, 20))))
    size = victim.stat().st_size
    if same_size:
        for r in changed:  # a proxy text tagged [swap], cut or padded to the old text's byte length
            old = texts[r].encode()
            tag = f" [swap {r:07d}]"
            body = (PROXY_DOC * 3)[: max(0, len(old) - len(tag))]
            _edit_in_place(victim, r, (body + tag).ljust(len(old))[: len(old)])
        assert victim.stat().st_size == size
    else:
        for r in changed:
            texts[r] = f"{PROXY_DOC} [swap {r:07d}]"
        _write(victim, texts, plain=True)
    re = _cli("rethreshold", out, "--min-unique-hits", "3", "--out", tmp / "r3", env=env, timeout=600)
    again = _cli("run", inp, "-p", pipe, "-o", out, "--quiet", env=env, timeout=600)
    verify = _cli("verify", out, env=env)
    return {
        "victim": victim.name,
        "rows_changed": len(changed),
        "same_size": same_size,
        "rethreshold_rc": re.returncode,
        "rethreshold_error": _error(re) if re.returncode else "",
        "unscored_in_rethreshold_kept": unscored(tmp / "r3"),
        "rerun_rc": again.returncode,
        "rerun_error": _error(again) if again.returncode else "",
        "verify_rc": verify.returncode,
        "verify_line": _error(verify) if verify.returncode else "",
        "unscored_in_run_kept": unscored(out),
    }


def run_input_faults(case: str, trials: int, rows: int, max_delay: float, seed: int) -> dict:
    """``trials`` of ``case`` ("swap" or "reexport"); returns the per-trial log and the totals."""
    rng = random.Random(seed)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    log = []
    for t in range(trials):
        with tempfile.TemporaryDirectory(prefix=f"fault_{case}_") as tmp:
            if case == "swap":
                r = swap_trial(Path(tmp), rows, rng, max_delay, in_place=bool(t % 2), env=env)
            else:
                r = reexport_trial(Path(tmp), rows, rng, same_size=bool(t % 2), env=env)
        log.append(r)
        print(f"{case} trial {t + 1}: {r}")
    keys = [k for k in log[0] if k.startswith("unscored")]
    return {
        "case": case,
        "trials": trials,
        "rows_per_shard": rows,
        "shards": N_SHARDS,
        "unscored_rows_in_kept": sum(r[k] for r in log for k in keys),
        "log": log,
    }
