"""The package layering in pyproject.toml ([tool.importlinter]) holds: no module imports a layer above it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("needs import-linter (pip install -e '.[dev]')")
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "1 kept, 0 broken" in out.stdout


def test_no_import_cycles_between_modules():
    """No module imports one that (directly or not) imports it back; TYPE_CHECKING-only imports aside."""
    grimp = pytest.importorskip("grimp", reason="needs import-linter's grimp (pip install -e '.[dev]')")
    graph = grimp.build_graph("filterkit", exclude_type_checking_imports=True)
    cycles = []
    for m in sorted(graph.modules):
        for dep in graph.find_modules_directly_imported_by(m):
            back = graph.find_shortest_chain(importer=dep, imported=m)
            if back is not None:
                cycles.append((m, *back))
    assert not cycles, cycles[:5]
