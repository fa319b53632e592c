"""Tiny generated inputs shared by the tests. All text is benign, encyclopedia-register prose."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # test modules import onnxruntime directly (filterkit/classify/onnx.py)

ROOT = Path(__file__).resolve().parents[1]
BLOCKLIST = ROOT / "classifiers" / "blocklist" / "biorisk-proxy.txt"
HEAD = ROOT / "classifiers" / "biorisk-proxy-minilm"
SHARED_DATA = ROOT.parent / "shared" / "data"

PROXY = [
    "Bacteriophages are viruses that infect bacteria. A phage attaches to the bacterial cell wall, injects its "
    "genome, and uses the host machinery to replicate before the new virions are released.",
    "Plasmids are small circular DNA molecules in bacteria that replicate independently of the chromosome. "
    "Horizontal gene transfer of plasmids spreads antibiotic resistance genes between bacterial species.",
    "The influenza virus has an envelope studded with surface proteins. Antigenic drift in these proteins lets "
    "the pathogen evade immunity, which is why the vaccine is updated every season.",
    "Microbiology grew from the work of Pasteur and Koch, who linked specific microorganisms to infectious "
    "disease and developed ways to grow bacteria in pure culture on solid media.",
]
GENERAL = [
    "The football season ended with a dramatic final in which the home side scored twice in extra time.",
    "Interest rates rose for the third quarter in a row as the central bank tried to slow inflation.",
    "The cathedral's gothic facade took more than a century to complete and draws many visitors each summer.",
    "To make a simple risotto, toast the rice in butter, add warm stock a ladle at a time and stir often.",
    "The new phone has a larger battery, a brighter screen and a camera that handles low light well.",
    "Chess openings such as the Sicilian Defence lead to sharp positions full of tactical chances for both sides.",
]


def write_shard(path: Path, texts: list[str], ids: list[str] | None = None, **extra) -> Path:
    cols = {"text": pa.array(texts, pa.string())}
    if ids is not None:
        cols = {"id": pa.array(ids, pa.string()), **cols}
    for k, v in extra.items():
        cols[k] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)
    return path


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    """Three small shards (one without ids, one with an extra column) mixing proxy and general text."""
    d = tmp_path / "in"
    write_shard(d / "s0.parquet", PROXY[:2] + GENERAL[:3], ids=[f"a{i}" for i in range(5)])
    write_shard(d / "s1.parquet", GENERAL[3:] + PROXY[2:])
    write_shard(
        d / "s2.parquet", [GENERAL[0], PROXY[0], GENERAL[5]], ids=["c0", "c1", "c2"], year=pa.array([2001, 2002, 2003])
    )
    return d


def write_pipeline(path: Path, **sections: dict) -> Path:
    """A pipeline YAML using the shipped blocklist and head; ``sections`` override keys per section."""
    cfg: dict = {
        "blocklist": {"path": str(BLOCKLIST), "min_unique_hits": 2},
        "classifier": {"path": str(HEAD), "device": "cpu"},
    }
    for name, values in sections.items():
        cfg.setdefault(name, {}).update(values)
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    return write_pipeline(tmp_path / "pipeline.yaml")


_KILLER = """
import os, signal, sys
from filterkit.stages import shard_output
real = shard_output.write_kept
calls = []
def write_then_die(*a, **kw):
    out = real(*a, **kw)
    calls.append(1)
    if len(calls) == int(os.environ["FILTERKIT_TEST_KILL_AT"]):  # this shard's kept file is written, not renamed
        os.kill(os.getpid(), signal.SIGKILL)
    return out
shard_output.write_kept = write_then_die
from filterkit.cli import app
sys.argv = ["filterkit", *sys.argv[1:]]
app()
"""


def run_killed(tmp_path: Path, args: list[str], kill_at: int):
    """``filterkit ARGS`` in a child process that SIGKILLs itself when shard ``kill_at``'s kept file is written
    (before the rename and the done marker): a crash at a known point, so ``kill_at - 1`` shards are finished,
    with no timing race. Needs the in-process local executor (``workers: 1``, the default)."""
    import subprocess
    import sys

    script = tmp_path / "killer.py"
    script.write_text(_KILLER, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "FILTERKIT_TEST_KILL_AT": str(kill_at)}
    return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=300)


_PAUSER = """
import os

_gate = os.environ.get("FILTERKIT_TEST_PAUSE_DIR")
if _gate:  # every Python process of the run (the run, datatrove's forkserver and its workers) patches itself
    import pathlib
    import time

    from filterkit.stages import shard_output

    _real, _calls = shard_output.write_kept, []

    def _write_then_wait(*a, **kw):
        out = _real(*a, **kw)
        _calls.append(1)
        if len(_calls) == 1:  # this process's first kept file is written, not yet renamed or marked done
            gate = pathlib.Path(_gate)
            (gate / f"paused-{os.getpid()}").touch()
            while not (gate / "go").exists():
                time.sleep(0.01)
        return out

    shard_output.write_kept = _write_then_wait
"""


class PausedRun:
    """A ``filterkit ARGS`` child process that stops at a known point: each of its processes that writes a kept
    file waits, once its first shard's kept file is written (before the rename and the done marker), until
    :meth:`resume`. While paused the run is certainly going, whatever the machine's speed: a test acts
    mid-run without a timing race. (A ``sitecustomize`` on the child's path patches the writer, so datatrove's
    pool workers, which the forkserver starts, are paused too.)"""

    def __init__(self, tmp_path: Path, args: list[str]) -> None:
        import subprocess
        import sys

        hook, self.gate = tmp_path / "pause-hook", tmp_path / "pause-gate"
        hook.mkdir()
        self.gate.mkdir()
        (hook / "sitecustomize.py").write_text(_PAUSER, encoding="utf-8")
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]),
            "FILTERKIT_TEST_PAUSE_DIR": str(self.gate),
        }
        cmd = [sys.executable, "-m", "filterkit.cli", *args]
        self.proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)

    def paused(self) -> list[int]:
        return [int(p.name.split("-")[1]) for p in self.gate.glob("paused-*")]

    def wait_paused(self, timeout: float = 300) -> list[int]:
        """Block until a process of the run has paused (it cannot get past that point on its own); the pids."""
        import time

        deadline = time.monotonic() + timeout
        while not self.paused():
            if self.proc.poll() is not None:
                raise AssertionError(f"the run ended before it paused: {self.proc.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, "the run did not reach its pause point"
            time.sleep(0.01)
        return self.paused()

    def resume(self) -> None:
        (self.gate / "go").touch()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def one_line_error(res, *needles: str) -> str:
    """A CLI result that failed as users are promised: exit 2, one ``error:`` line naming each of ``needles``."""
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]
