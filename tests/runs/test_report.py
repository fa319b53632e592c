"""`filterkit report RUN`: the reviewer's page, checked as a person would use it — opened in a real browser.

One small run (three shards, proxy and general text, one removed and one kept document carrying markup) is made
once for the module. The page's numbers are compared with the manifest, its examples with the audit, and the
page is loaded in headless Chromium (Debian's ``chromium``: installed with apt-get where missing and this user
may) to check that document text is shown escaped and runs nothing, and to save a screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.runs.report import build_report, render_html, write_report
from tests.conftest import GENERAL, PROXY, ROOT, one_line_error, write_pipeline, write_shard

# a crawled page is hostile input: markup that must be shown, never run, in both a removed and a kept document
ATTACK = (
    "<script>document.body.setAttribute('data-pwned','script')</script></textarea>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
)
HOSTILE_REMOVED = PROXY[2] + " " + ATTACK
HOSTILE_KEPT = "The Antonine Plague struck the empire. " + ATTACK  # escalated (a term), scored ~0.12: kept


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, dict, Path, Path]:
    tmp = tmp_path_factory.mktemp("report")
    d = tmp / "in"
    write_shard(
        d / "s0.parquet",
        [PROXY[0], HOSTILE_REMOVED, *GENERAL[:3]],
        ids=[f"a{i}" for i in range(5)],
        source=pa.array(["wiki", "forum", "news", "news", "<b>blog</b>"]),
    )
    write_shard(
        d / "s1.parquet",
        [*GENERAL[3:], PROXY[1], HOSTILE_KEPT],
        ids=[f"b{i}" for i in range(5)],
        source=pa.array(["news", "forum", "wiki", "wiki", "forum"]),
    )
    write_shard(d / "s2.parquet", [GENERAL[0], PROXY[3]], ids=["c0", "c1"], source=pa.array([None, "wiki"]))
    pipe = write_pipeline(
        tmp / "p.yaml",
        blocklist={"min_unique_hits": 1},
        semantic_gate={"enabled": True, "path": str(ROOT / "classifiers" / "biorisk-proxy-static"), "threshold": 0.5},
        classifier={"export_spans": True, "max_tokens": 128},  # one window holds a whole test page
        output={"audit_text": "full"},
    )  # so the report shows the flagged windows themselves
    res = run(d, pipe, tmp / "run")
    return tmp / "run", res.manifest, d, pipe


def test_report_numbers_come_from_the_run(demo_run):
    out, m, *_ = demo_run
    r = build_report(out, examples=20, by="source")
    c = m["counts"]
    o = r.overall
    assert (o.read, o.kept, o.removed_classifier, o.removed_blocklist, o.removed_error) == (
        c["read"],
        c["kept"],
        c["removed_classifier"],
        c["removed_blocklist"],
        c["removed_error"],
    )
    assert o.escalated == c["escalated"] and o.escalated_terms + o.escalated_gate == c["escalated"]
    assert {f.label: (f.read, f.removed) for f in r.shards.rows} == {
        st["shard"]: (st["rows_read"], st["removed"]) for st in m["shards"]
    }
    by = {f.label: f for f in r.by.rows}
    assert set(by) == {"wiki", "forum", "news", "<b>blog</b>", "(null)"}
    assert sum(f.read for f in by.values()) == c["read"] and sum(f.removed for f in by.values()) == c["removed"]
    assert all(f.read == f.kept + f.removed for f in by.values())
    sets = {s.key: s.examples for s in r.examples}
    assert len(sets["removed-random"]) == c["removed"]  # 20 asked, fewer removals: every one is shown
    assert len(sets["removed-near"]) == c["removed_classifier"]
    assert all(e.removed and e.score >= e.threshold for e in sets["removed-near"])
    assert sets["kept-near"] and all(not e.removed and e.score < e.threshold for e in sets["kept-near"])
    kept_texts = {e.doc_id: "".join(p for p, _ in e.segments) for e in sets["kept-near"]}
    assert "b4" in kept_texts and kept_texts["b4"].startswith("The Antonine Plague")  # read back from kept/
    assert all(e.text_note.startswith("flagged windows: characters ") for e in sets["removed-random"])
    windows = {e.doc_id: "".join(p for p, _ in e.segments) for e in sets["removed-random"]}
    assert "<script>document.body" in windows["a1"]  # the attack sits in a flagged window of the hostile page
    marked = [p for e in sets["removed-near"] for p, hit in e.segments if hit]
    assert marked and all(
        any(p.lower() == t for t, _ in e.terms) or " " in p
        for e in sets["removed-near"]
        for p, hit in e.segments
        if hit
    )
    assert r.terms and r.terms[0].removed_docs >= 1
    assert r.score_hist.total == c["escalated"] and r.gate_hist.total == o.escalated_gate
    assert {t.stage for t in r.timing} >= {"blocklist", "classifier"}


def test_page_escapes_document_text_and_carries_no_script(demo_run):
    out, *_ = demo_run
    page = render_html(
        build_report(out, examples=20, by="source", estimates={"precision": {"value": 0.81, "ci95": (0.7, 0.9)}})
    )
    assert "<script" not in page and "<img" not in page and "<textarea" not in page
    assert "&lt;script&gt;document.body.setAttribute" in page and "&lt;/textarea&gt;" in page
    assert "&lt;b&gt;blog&lt;/b&gt;" in page  # metadata values are hostile too
    assert "Content-Security-Policy" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert 'data-estimate="precision">0.810<' in page and "[0.700, 0.900]" in page
    assert page == render_html(
        build_report(out, examples=20, by="source", estimates={"precision": {"value": 0.81, "ci95": (0.7, 0.9)}})
    )


def test_cli_report_and_errors(demo_run, tmp_path):
    out, *_ = demo_run
    cli = CliRunner()
    res = cli.invoke(app, ["report", str(out), "--examples", "2"])
    assert res.exit_code == 0, res.output
    assert f"report: {out / 'report.html'}" in res.stdout and (out / "report.html").is_file()
    assert "[report.html](report.html)" in (out / "README.md").read_text()  # the dataset card links the page
    one_line_error(cli.invoke(app, ["report", str(out), "--by", "nope"]), "no column 'nope'", "s0.parquet")
    one_line_error(cli.invoke(app, ["report", str(tmp_path)]), "no manifest.json")
    elsewhere = tmp_path / "elsewhere.html"
    assert write_report(out, elsewhere, examples=1) == elsewhere and elsewhere.stat().st_size > 10_000


def test_by_refuses_inputs_changed_since_the_run(demo_run, tmp_path):
    out, *_ = demo_run
    moved = tmp_path / "copy"
    shutil.copytree(out, moved)
    (moved / "report.html").unlink(missing_ok=True)  # another test may have written one
    manifest = json.loads((moved / "manifest.json").read_text())
    manifest["inputs"][0]["bytes"] += 1  # as if the input had been rewritten after the run
    (moved / "manifest.json").write_text(json.dumps(manifest))
    res = CliRunner().invoke(app, ["report", str(moved), "--by", "source"])
    one_line_error(res, "the input changed since the run", "leave out --by")
    assert not (moved / "report.html").exists()


def test_run_prints_the_report_path(demo_run):
    out, _, inputs, pipe = demo_run
    cli = CliRunner()
    (out / "report.html").unlink(missing_ok=True)
    res = cli.invoke(app, ["run", str(inputs), "-p", str(pipe), "-o", str(out), "--no-report"])  # resumes: all done
    assert res.exit_code == 0, res.output
    assert "report:" not in res.stdout and not (out / "report.html").exists()
    assert "report.html" not in (out / "README.md").read_text()
    res = cli.invoke(app, ["run", str(inputs), "-p", str(pipe), "-o", str(out)])  # local executor: on by default
    assert res.exit_code == 0, res.output
    assert f"report: {out / 'report.html'}" in res.stdout.replace("\n", "") and (out / "report.html").is_file()
    assert "[report.html](report.html)" in (out / "README.md").read_text()
    res = cli.invoke(app, ["run", str(inputs), "-p", str(pipe), "-o", str(out), "--json"])
    assert json.loads(res.stdout)["report"] == str(out / "report.html")


# --- in a browser ---------------------------------------------------------------------------------------------


def _chromium() -> str:
    """A headless Chromium, installed from Debian's ``chromium`` package when missing and apt-get may run."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    if os.environ.get("FILTERKIT_NO_APT"):
        pytest.skip("chromium is not installed and FILTERKIT_NO_APT forbids installing it (apt-get install chromium)")
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip(
            "chromium is not installed and apt-get cannot install it here (needs Debian/Ubuntu and root): "
            "install the `chromium` package to run the browser test"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.skip(f"chromium is not installed and `{' '.join(cmd)}` did not finish in 15 minutes")
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"chromium is not installed and `{' '.join(cmd)}` failed: {last[0]}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed chromium but no `chromium` command is on PATH")
    return found


def _headless(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess:
    """Chromium on one local file, with its own profile folder beside it (root needs --no-sandbox)."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={page.parent / '.chromium'}",
    ]
    return subprocess.run([browser, *flags, *args, page.as_uri()], capture_output=True, text=True, timeout=120)


class _Dom(HTMLParser):
    """The elements of a dumped DOM (tag, attributes) and the text inside each example's ``.text`` block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self._depth = 0  # >0 while inside a div.text

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if self._depth:
            self._depth += 1 if tag == "div" else 0
        elif tag == "div" and a.get("class") == "text":
            self._depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self._depth and tag == "div":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.texts[-1] += data


@pytest.mark.slow
def test_page_in_headless_chromium(demo_run, tmp_path):
    out, m, *_ = demo_run
    browser = _chromium()
    page = write_report(out, tmp_path / "report.html", examples=20, by="source")
    # the escaping alone must hold: load a copy without the Content-Security-Policy, which would block scripts anyway
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", page.read_text()))
    assert "Content-Security-Policy" not in bare.read_text()
    done = _headless(browser, bare, "--virtual-time-budget=3000", "--dump-dom")
    assert done.returncode == 0 and "</html>" in done.stdout, done.stderr[-2000:]
    dom = _Dom()
    dom.feed(done.stdout)
    tags = [t for t, _ in dom.elements]
    assert "script" not in tags and "textarea" not in tags
    assert not any("data-pwned" in a or "onerror" in a for _, a in dom.elements), "a document's markup ran"
    assert not any(t == "img" for t in tags)
    counts = {a["data-count"]: int(a["data-value"]) for _, a in dom.elements if "data-count" in a}
    c = m["counts"]
    assert counts["read"] == c["read"] and counts["kept"] == c["kept"] and counts["removed"] == c["removed"]
    assert counts["escalated"] == c["escalated"] and counts["removed_classifier"] == c["removed_classifier"]
    examples = [a["data-example"] for _, a in dom.elements if "data-example" in a]
    assert examples.count("removed-random") == c["removed"] and examples.count("kept-near") >= 1
    shown = [t for t in dom.texts if "<script>document.body.setAttribute('data-pwned'" in t]  # seen as text
    assert len(shown) >= 2 and all("</textarea>" in t for t in shown)
    assert sum(1 for t, a in dom.elements if t == "svg") == 2

    shot = tmp_path / "report.png"
    done = _headless(browser, page, "--window-size=1280,1800", f"--screenshot={shot}")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
