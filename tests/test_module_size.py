"""No module of the package is over 400 lines: a module that long holds more than one job (issue 19).

Split it by responsibility, not by line count; the README's code map says which file holds which job.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "filterkit"
MAX_LINES = 400


def test_no_package_module_is_over_400_lines():
    sizes = {
        p.relative_to(PACKAGE.parent).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 50  # the walk found the package, not an empty folder
    over = {name: n for name, n in sorted(sizes.items()) if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split each by responsibility): {over}"
