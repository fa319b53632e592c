"""`filterkit review` and `filterkit estimate` on tiny runs with known labels, against a hand computation."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from filterkit import run
from filterkit.cli import app
from filterkit.errors import FilterkitError
from filterkit.runs.review import excerpt, review
from filterkit.runs.review_labels import estimate_run
from tests.conftest import GENERAL, PROXY, one_line_error, write_pipeline, write_shard

# 4 proxy texts (blocklist terms) and 12 general ones (none), in two shards with a `site` column
S0 = PROXY[:2] + GENERAL + [GENERAL[0] + " It rained."]
S1 = PROXY[2:] + [g + " Then it was late." for g in GENERAL[:5]]


@pytest.fixture(scope="module")
def bl_run(tmp_path_factory) -> Path:
    """A blocklist-only run (no encoder, so fast): strata removed_blocklist (the 4 proxy texts) and not_escalated."""
    d = tmp_path_factory.mktemp("review")
    write_shard(
        d / "in" / "s0.parquet",
        S0,
        ids=[f"a{i}" for i in range(len(S0))],
        site=pa.array([("x", "y")[i % 2] for i in range(len(S0))]),
    )
    write_shard(d / "in" / "s1.parquet", S1, site=pa.array(["x"] * len(S1)))
    pipe = write_pipeline(
        d / "p.yaml", blocklist={"mode": "remove", "min_unique_hits": 1}, classifier={"enabled": False}
    )
    res = run(d / "in", pipe, d / "run")
    assert res.counts["removed_blocklist"] == 4 and res.counts["kept"] == 12, res.counts  # the texts' own terms
    return d / "run"


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _input_text(run_dir: Path, shard: str, row: int) -> str:
    m = json.loads((run_dir / "manifest.json").read_text())
    path = next(i["path"] for i in m["inputs"] if i["name"] == shard)
    return pq.read_table(path).column("text")[row].as_py()


def test_review_draws_every_stratum_blind(bl_run, tmp_path):
    m = json.loads((bl_run / "manifest.json").read_text())["counts"]
    res = review(bl_run, tmp_path / "r.jsonl", per_stratum=3, seed=0)
    assert res.strata == {
        "not_escalated": {"size": m["kept"], "sampled": 3},
        "removed_blocklist": {"size": m["removed_blocklist"], "sampled": 3},
    }
    lines = _lines(tmp_path / "r.jsonl")
    assert len(lines) == res.lines == 6
    for x in lines:
        assert set(x) == {"id", "shard", "row", "stratum", "stratum_size", "text", "excerpt", "label", "note"}
        assert x["label"] is None and x["stratum_size"] == res.strata[x["stratum"]]["size"]
        assert x["text"] == _input_text(bl_run, x["shard"], x["row"])  # the full text, read from the input
        assert (x["text"] in PROXY) == (x["stratum"] == "removed_blocklist")
    assert {x["id"] for x in lines if x["shard"] == "s1.parquet"} <= {f"s1.parquet#{r}" for r in range(len(S1))}
    assert not (tmp_path / "r.scores.jsonl").exists()  # scores only on request, never in the file itself
    meta = json.loads((tmp_path / "r.meta.json").read_text())
    assert meta["seed"] == 0 and meta["strata"] == res.strata and meta["run_id"]
    again = review(bl_run, tmp_path / "same.jsonl", per_stratum=3, seed=0)
    assert (tmp_path / "same.jsonl").read_bytes() == (tmp_path / "r.jsonl").read_bytes() and again.strata == res.strata
    other = _lines(review(bl_run, tmp_path / "other.jsonl", per_stratum=3, seed=5).out)
    assert {(x["shard"], x["row"]) for x in other} != {(x["shard"], x["row"]) for x in lines}
    every = review(bl_run, tmp_path / "all.jsonl", per_stratum=100)
    assert every.lines == m["read"]  # a stratum smaller than the sample is taken whole


def test_review_splits_the_never_escalated_by_a_column(bl_run, tmp_path):
    res = review(bl_run, tmp_path / "r.jsonl", per_stratum=2, by="site")
    # s0: 9 rows, site alternating x, y from row 0, rows 0-1 removed -> x at rows 2, 4, 6, 8 and y at 3, 5, 7;
    # s1: all x, its 5 general rows kept -> 9 x, 3 y
    kept_x = sum(1 for i, t in enumerate(S0) if t not in PROXY and i % 2 == 0) + sum(t not in PROXY for t in S1)
    kept_y = sum(1 for i, t in enumerate(S0) if t not in PROXY and i % 2 == 1)
    assert (kept_x, kept_y) == (9, 3)
    assert res.strata["not_escalated/x"]["size"] == kept_x and res.strata["not_escalated/y"]["size"] == kept_y
    assert "not_escalated" not in res.strata and res.lines == 6
    with pytest.raises(FilterkitError, match="no column 'nope'"):
        review(bl_run, tmp_path / "n.jsonl", by="nope")


def test_estimate_weights_the_tiny_run_back_as_by_hand(bl_run, tmp_path):
    review(bl_run, tmp_path / "r.jsonl", per_stratum=2, seed=1)
    lines = _lines(tmp_path / "r.jsonl")
    # an annotator's labels, in file order per stratum: removals 1 and 0.5; never-escalated 0 and 1 (a missed page)
    given = {"removed_blocklist": [1, 0.5], "not_escalated": [0, 1]}
    for x in lines:
        x["label"] = given[x["stratum"]].pop(0)
    _write(tmp_path / "r.jsonl", lines)
    m = json.loads((bl_run / "manifest.json").read_text())["counts"]
    n_rem, n_kept = m["removed_blocklist"], m["kept"]  # 4 and 12
    e = estimate_run(bl_run, tmp_path / "r.jsonl", n_boot=300)
    # strict: proxy removed = 4 * 1/2 = 2; proxy kept = 12 * 1/2 = 6 -> precision 2/4, recall 2/8,
    #         non-proxy removed (4 - 2) / 16
    assert e.overall.strict.precision.value == pytest.approx(n_rem * 0.5 / n_rem)
    assert e.overall.strict.recall.value == pytest.approx(n_rem * 0.5 / (n_rem * 0.5 + n_kept * 0.5))
    assert e.overall.strict.nonproxy_removed_share.value == pytest.approx((n_rem - n_rem * 0.5) / (n_rem + n_kept))
    # lenient: both removals count -> precision 1, recall 4 / (4 + 6), nothing non-proxy removed
    assert e.overall.lenient.precision.value == 1.0
    assert e.overall.lenient.recall.value == pytest.approx(n_rem / (n_rem + n_kept * 0.5))
    assert e.overall.lenient.nonproxy_removed_share.value == 0.0
    assert e.overall.removed_share.value == pytest.approx(n_rem / (n_rem + n_kept))  # exact: strata are decisions
    # intervals: 2 of 4 removals read, so the strict precision has sampling error; 1 of 2 read proxy in each
    # resample of 1 draw (n - 1) rescaled by sqrt(1 - 2/4): the precision moves between 0.5 -/+ 0.354
    lo, hi = e.overall.strict.precision.ci95
    assert lo == pytest.approx(0.5 - 0.5 * 0.5**0.5) and hi == pytest.approx(0.5 + 0.5 * 0.5**0.5)
    assert e.overall.lenient.precision.ci95 == pytest.approx((1.0, 1.0))
    r = CliRunner().invoke(
        app, ["estimate", str(bl_run), "--labels", str(tmp_path / "r.jsonl"), "--json", "--bootstrap", "300"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == json.loads(e.model_dump_json())
    table = CliRunner().invoke(app, ["estimate", str(bl_run), "--labels", str(tmp_path / "r.jsonl")])
    assert table.exit_code == 0 and "precision" in table.stdout and "lenient" in table.stdout
    # the run report shows the same estimates beside its counts (issue 21, point 2)
    page = tmp_path / "report.html"
    rep = CliRunner().invoke(app, ["report", str(bl_run), "--out", str(page), "--labels", str(tmp_path / "r.jsonl")])
    assert rep.exit_code == 0, rep.output
    html = page.read_text(encoding="utf-8")
    assert 'data-estimate="precision (strict)"' in html and 'data-estimate="recall (lenient)"' in html
    assert "No estimates" not in html


def test_estimate_refuses_labels_that_do_not_belong_to_the_run(bl_run, tmp_path):
    review(bl_run, tmp_path / "r.jsonl", per_stratum=2)
    lines = _lines(tmp_path / "r.jsonl")
    for x in lines:
        x["label"] = 0
    runner = CliRunner()
    foreign = _write(tmp_path / "foreign.jsonl", [{**lines[0], "id": "not-in-this-run"}, *lines[1:]])
    res = runner.invoke(app, ["estimate", str(bl_run), "--labels", str(foreign)])
    one_line_error(res, str(foreign), "not-in-this-run", "1 of 4 ids are not in run")
    past = _write(
        tmp_path / "past.jsonl", [*lines, {**lines[0], "shard": "s1.parquet", "row": 999, "id": "s1.parquet#999"}]
    )
    one_line_error(
        runner.invoke(app, ["estimate", str(bl_run), "--labels", str(past)]), str(past), "s1.parquet row 999"
    )
    bad = _write(tmp_path / "bad.jsonl", [{**lines[0], "label": 0.7}, *lines[1:]])
    one_line_error(runner.invoke(app, ["estimate", str(bl_run), "--labels", str(bad)]), str(bad), "line 1", "0.7")
    moved = _write(tmp_path / "moved.jsonl", [{**x, "stratum_size": x["stratum_size"] + 1} for x in lines])
    one_line_error(
        runner.invoke(app, ["estimate", str(bl_run), "--labels", str(moved)]), str(moved), "draw a new sample"
    )
    one_line_error(runner.invoke(app, ["estimate", str(tmp_path), "--labels", str(bad)]), "no manifest.json")
    one_line_error(
        runner.invoke(app, ["estimate", str(bl_run), "--labels", str(tmp_path / "none.jsonl")]), "none.jsonl"
    )


def test_a_stratum_left_out_of_the_labels_file_is_unknown_not_empty(bl_run, tmp_path):
    review(bl_run, tmp_path / "r.jsonl", per_stratum=3)
    removals = [{**x, "label": 1} for x in _lines(tmp_path / "r.jsonl") if x["stratum"] == "removed_blocklist"]
    e = estimate_run(bl_run, _write(tmp_path / "only.jsonl", removals), n_boot=50)
    assert e.overall.strict.precision.value == 1.0  # about removals only: still known
    assert e.overall.strict.recall.value is None and "not_escalated" in e.overall.strict.recall.undefined


def test_review_never_overwrites_a_file_with_labels(bl_run, tmp_path):
    out = tmp_path / "r.jsonl"
    review(bl_run, out, per_stratum=2)
    review(bl_run, out, per_stratum=2, seed=3)  # unlabelled: the same draw can be made again, so it may be replaced
    lines = _lines(out)
    lines[0]["label"] = 1
    _write(out, lines)
    res = CliRunner().invoke(app, ["review", str(bl_run), "--out", str(out)])
    one_line_error(res, str(out), "holds labels")
    assert _lines(out)[0]["label"] == 1
    one_line_error(CliRunner().invoke(app, ["review", str(bl_run), "--out", str(bl_run / "kept" / "r.jsonl")]), "kept/")


def test_long_documents_are_shown_as_the_passages_the_filter_flagged():
    filler = "The committee met again on Tuesday and read the minutes of the last meeting aloud. " * 200
    text = filler + "Bacteriophages infect bacteria and inject their genome into the host. " + filler
    hit = text.index("Bacteriophages")
    shown, info = excerpt(text, [], ["bacteriophages"], max_chars=6000)  # no spans/: around the term's hits
    assert info["of"] == "blocklist terms" and info["chars"] == len(text)
    assert info["windows"] == [[hit - 500, hit + len("Bacteriophages") + 500]] and "Bacteriophages infect" in shown
    shown, info = excerpt(text, [(100, 900), (800, 1500), (hit, hit + 60)], [], max_chars=6000)
    assert info["of"] == "flagged windows" and info["windows"] == [[100, 1500], [hit, hit + 60]]
    assert shown == text[100:1500] + "\n[…]\n" + text[hit : hit + 60]
    assert excerpt(text[:5000], [(0, 10)], ["x"], max_chars=6000) == (text[:5000], None)  # short: the full text
    assert excerpt(text, [], ["nowhere"], max_chars=6000) == (text, None)  # nothing to point at: the full text


def test_review_of_a_classifier_run_keeps_scores_in_the_sidecar(shards, tmp_path):
    pipe = write_pipeline(tmp_path / "p.yaml", blocklist={"min_unique_hits": 1})
    res = run(shards, pipe, tmp_path / "run")
    c = res.counts
    r = review(tmp_path / "run", tmp_path / "r.jsonl", per_stratum=50, with_scores=True)
    sizes = {k: v["size"] for k, v in r.strata.items()}
    assert sizes.get("removed_classifier", 0) == c["removed_classifier"]
    assert sizes.get("escalated_kept", 0) == c["escalated"] - c["removed_classifier"] - c["removed_error"]
    assert sizes["not_escalated"] == c["read"] - c["escalated"] - c["removed_blocklist"]
    side = {(x["shard"], x["row"]): x for x in _lines(tmp_path / "r.scores.jsonl")}
    assert len(side) == r.lines
    for line, x in zip((tmp_path / "r.jsonl").read_text().splitlines(), _lines(tmp_path / "r.jsonl")):
        assert set(x) == {"id", "shard", "row", "stratum", "stratum_size", "text", "excerpt", "label", "note"}
        s = side[(x["shard"], x["row"])]
        assert s["id"] == x["id"] and (s["score"] is not None) == (x["stratum"] != "not_escalated")
        if s["score"] is not None:
            assert json.dumps(s["score"]) not in line and f"{s['score']:.2f}" not in line
