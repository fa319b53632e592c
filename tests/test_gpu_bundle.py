"""benchmarks/gpu: the wheel bundle builds, splits, is carried in parts and installs offline (only what is
missing); the GPU runner's CPU fallback runs end to end on a tiny input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))

import bundle  # noqa: E402


def _wheel(folder: Path, name: str, payload: bytes = b"") -> Path:
    """A minimal pure-Python wheel made by hand (no network, no build backend)."""
    whl = folder / f"{name}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr(f"{name}/__init__.py", f"VALUE = {name!r}\n")
        zf.writestr(f"{name}/blob.bin", payload)
        zf.writestr(f"{name}-0.1.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        zf.writestr(f"{name}-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{name}-0.1.dist-info/RECORD", "")
    return whl


def test_bundle_builds_in_parts_and_installs_only_what_is_missing(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "fk_tiny_pkg", os.urandom(300_000))  # random bytes: the tarball cannot compress below 2 parts
    _wheel(wheels, "json")  # the machine already has `json`: must be skipped, never shadowed
    out = tmp_path / "bundle"
    m = bundle.build(sorted(wheels.glob("*.whl")), out, part_mib=0.2)
    assert len(m["parts"]) == 2 and all(p["bytes"] <= 0.2 * 2**20 for p in m["parts"])
    assert {w["dir"]: w["imports"] for w in m["wheels"]} == {"fk_tiny_pkg": ["fk_tiny_pkg"], "json": ["json"]}

    # call 1 carries part 0 only: nothing is installed, the missing part is named
    stash, site = tmp_path / "stash", tmp_path / "site"
    carried = tmp_path / "call1"
    carried.mkdir()
    for f in ("manifest.json", "bundle.tar.gz.part00"):
        (carried / f).write_bytes((out / f).read_bytes())
    bundle.stash(carried, stash)
    r = bundle.install([stash], site)
    assert r["missing_parts"] == ["bundle.tar.gz.part01"] and not site.exists()

    # call 2 carries part 1: the parts join, check and install
    bundle.stash(out, stash)
    r = bundle.install([stash], site)
    assert r["installed"] == ["fk_tiny_pkg-0.1-py3-none-any.whl"] and r["skipped"] == ["json-0.1-py3-none-any.whl"]
    code = "import fk_tiny_pkg, json; print(fk_tiny_pkg.VALUE, hasattr(json, 'dumps'))"
    got = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert got == ["fk_tiny_pkg", "True"] and not (site / "json").exists()

    # a damaged part is not used
    (stash / "bundle.tar.gz.part01").write_bytes(b"x")
    assert bundle.install([stash], tmp_path / "site2")["missing_parts"] == ["bundle.tar.gz.part01"]


def test_runner_waits_for_missing_parts(tmp_path):
    """On the GPU machine a call that carried only some parts stashes them and stops, asking for the rest."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "fk_tiny_pkg", os.urandom(300_000))
    out = tmp_path / "bundle"
    bundle.build(sorted(wheels.glob("*.whl")), out, part_mib=0.2)
    (out / "bundle.tar.gz.part01").unlink()
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "SITE": str(tmp_path / "site"),
        "STASH": str(tmp_path / "stash"),
        "BUNDLE_DIR": str(out),
        "PYTHON": sys.executable,
    }
    r = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu" / "run_gpu.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "bundle incomplete" in r.stdout and "part01" in r.stdout
    assert (tmp_path / "stash" / "bundle.tar.gz.part00").is_file() and not (tmp_path / "site").exists()


@pytest.mark.slow
def test_runner_cpu_fallback_end_to_end(tmp_path):
    """`run_gpu.sh --cpu --tiny`: classifier bench, pipeline bench and a tiny experiment, JSON in $OUT."""
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "CLF_DOCS": "8", "PIPE_DOCS": "40"}
    r = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu" / "run_gpu.sh"), "--cpu", "--tiny", "--budget", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=450,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert [(s["step"], s["rc"]) for s in steps] == [("classifier", 0), ("pipeline", 0), ("experiment", 0)]
    clf = json.loads((out / "classifier_bench.json").read_text())
    assert clf["sets"][0]["runtimes"]["torch/fp32"]["docs_per_s"] > 0
    assert json.loads((out / "pipeline_bench.json").read_text())["runs"][0]["docs"] == 40
    assert json.loads((out / "experiment" / "results.json").read_text())["seeds"] == [0]
    assert json.loads((out / "env.json").read_text())["cuda"] is False
