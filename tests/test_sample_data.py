"""The committed sample data is exactly what ``sample_data/make_sample_data.py`` makes from ``banks/*.json``.

Other tests and the demo's documented numbers depend on these bytes, so an edit to a bank, to the
generator or to a committed file shows up here until the generator is re-run and its output committed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SCRIPT = SAMPLE / "make_sample_data.py"
GENERATED = [
    "README.md",
    "labelled/test.parquet",
    "labelled/train.parquet",
    "shards/demo-0000.parquet",
    "shards/demo-0001.parquet",
    "shards/demo-0002.parquet",
    "shards/demo-0003.parquet",
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerated_files_are_byte_identical_to_the_committed_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # run from an unrelated folder: the banks are found beside the script, not in the cwd
    subprocess.run([sys.executable, str(SCRIPT), str(out)], cwd=tmp_path, check=True, capture_output=True, text=True)
    made = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert made == GENERATED
    differing = [name for name in GENERATED if _sha256(out / name) != _sha256(SAMPLE / name)]
    assert differing == [], (
        f"{differing} differ from the committed files; if the change is intended, "
        "run `make sample-data` and commit its output"
    )


def _copy_banks(tmp_path: Path) -> Path:
    banks = tmp_path / "banks"
    shutil.copytree(SAMPLE / "banks", banks)
    return banks


def test_a_bank_defined_in_two_group_files_is_refused_naming_the_file(tmp_path: Path) -> None:
    gen = _generator()
    banks = _copy_banks(tmp_path)
    general = json.loads((banks / "general.json").read_text(encoding="utf-8"))
    target = json.loads((banks / "target.json").read_text(encoding="utf-8"))
    name, bank = next(iter(target["banks"].items()))
    general["banks"][name] = bank
    (banks / "general.json").write_text(json.dumps(general), encoding="utf-8")
    with pytest.raises(gen.BankError, match=rf"general\.json: bank '{name}' is already defined in target\.json"):
        gen.load_banks(banks)


def test_a_duplicate_key_is_refused_rather_than_silently_dropping_a_bank(tmp_path: Path) -> None:
    gen = _generator()
    banks = _copy_banks(tmp_path)
    path = banks / "hard_positive.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    name, bank = next(iter(data["banks"].items()))
    body = json.dumps(bank)
    path.write_text(f'{{"banks": {{"{name}": {body}, "{name}": {body}}}}}', encoding="utf-8")
    with pytest.raises(gen.BankError, match=rf"hard_positive\.json: key '{name}' appears twice"):
        gen.load_banks(banks)


def test_a_missing_or_unknown_group_file_is_refused(tmp_path: Path) -> None:
    gen = _generator()
    banks = _copy_banks(tmp_path)
    shutil.move(banks / "lexical_trap.json", banks / "lexical_traps.json")
    with pytest.raises(gen.BankError, match=r"lexical_traps\.json: not a group"):
        gen.load_banks(banks)
    shutil.move(banks / "lexical_traps.json", tmp_path / "elsewhere.json")
    with pytest.raises(gen.BankError, match=r"lexical_trap\.json: missing"):
        gen.load_banks(banks)
