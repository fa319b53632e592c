"""quality_bench's web section on a tiny fake labels folder and web pool (the real ones need the labelling work
and ../shared/data/web; the full benchmark runs the encoder and lives in benchmarks/)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.quality_web import consensus_label, render_web, web_section
from filterkit.errors import FilterkitError

# the pool: 40 pages of source "blog" (dev), 40 of "news" (dev), 20 of "forum" (train); ids b0.., n0.., f0..
POOL = {"blog": 40, "news": 40, "forum": 20}


def _pool(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for src, n in POOL.items():
        ids = [f"{src[0]}{i}" for i in range(n)]
        # pages 0-9 mention the virus (the fake filter removes them), the rest do not
        texts = [f"page {i} of {src}" + (" about the virus" if i < 10 else " about gardening") for i in range(n)]
        pq.write_table(
            pa.table({"id": ids, "text": texts, "source": [src] * n, "url": [None] * n}), d / f"{src}.parquet"
        )
    return d


def _labels(d: Path, rows: list[tuple[str, str, float, str]], strata: dict | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "labels.jsonl").write_text(
        "".join(
            json.dumps({"id": i, "source": s, "label": y, "reason": "", "annotator": a}) + "\n" for i, s, y, a in rows
        )
    )
    (d / "split.json").write_text(json.dumps({"blog": "dev", "news": "dev", "forum": "train"}))
    if strata is not None:
        (d / "strata.json").write_text(json.dumps(strata))
    return d


def fake_filter(texts: list[str]) -> np.ndarray:
    return np.array(["virus" in t for t in texts])


# read: blog pages 0-3 (removed; 0-2 proxy, 3 not), blog 20-23 (kept; 20 proxy); news 0-1 (removed; both not),
# news 20-23 (kept, not); forum 0-1 (train). Page b3 was read twice: 1 and 0 -> borderline (0.5).
READ = (
    [
        ("b0", "blog", 1, "r1"),
        ("b1", "blog", 1, "r1"),
        ("b2", "blog", 1, "r1"),
        ("b3", "blog", 1, "r1"),
        ("b3", "blog", 0, "r2"),
        ("b20", "blog", 1, "r1"),
        ("b21", "blog", 0, "r1"),
        ("b22", "blog", 0, "r1"),
        ("b23", "blog", 0, "r1"),
        ("n0", "news", 0, "r1"),
        ("n1", "news", 0, "r1"),
    ]
    + [(f"n{i}", "news", 0, "r1") for i in range(20, 24)]
    + [("f0", "forum", 1, "r1"), ("f1", "forum", 0, "r1")]
)


def test_the_web_section_weights_the_dev_split_back_to_the_pool(tmp_path):
    """Strata of the pool: removed 30 (blog, news and forum pages 0-9), kept 70. Read: removed 8 (b0-b3, n0, n1, f0,
    f1), kept 8 (b20-b23, n20-n23). Each removed reading stands for 30/8 pages, each kept one for 70/8.
    Dev (blog + news), strict: proxy removed = 3 * 30/8 = 11.25 of removed 6 * 30/8 = 22.5 -> precision 0.5;
    proxy kept = 1 * 70/8 = 8.75 -> recall 11.25 / 20 = 0.5625; dev size = 6 * 30/8 + 8 * 70/8 = 92.5;
    non-proxy removed = (22.5 - 11.25) / 92.5. Lenient: b3 (0.5) counts -> precision 4/6, recall 15 / 23.75."""
    sizes = {"removed": 30, "kept": 70}
    stratum = {i: ("removed" if int(i[1:]) < 10 else "kept") for i, *_ in READ}
    labels = _labels(tmp_path / "labels", READ, {"pool": 100, "sizes": sizes, "stratum": stratum})
    res = web_section(labels, _pool(tmp_path / "web"), fake_filter, n_boot=200)
    assert res["dev_documents_scored"] == 14 and res["dev_removed"] == 6 and res["readers_disagreed"] == 1
    assert res["drawn"].startswith("stratified sample") and res["dev_sources"] == ["blog", "news"]
    o = res["estimate"]["overall"]
    assert o["size"] == pytest.approx(92.5)
    assert o["strict"]["precision"]["value"] == pytest.approx(0.5)
    assert o["strict"]["recall"]["value"] == pytest.approx(11.25 / 20)
    assert o["strict"]["nonproxy_removed_share"]["value"] == pytest.approx(11.25 / 92.5)
    assert o["lenient"]["precision"]["value"] == pytest.approx(4 / 6)
    assert o["lenient"]["recall"]["value"] == pytest.approx(15 / 23.75)
    groups = {g["name"]: g for g in res["estimate"]["groups"]}
    assert set(groups) == {"blog", "news"}  # the train source is not reported
    assert groups["news"]["strict"]["precision"]["value"] == 0.0
    assert groups["news"]["strict"]["recall"]["undefined"] == "no proxy labels"
    lo, hi = o["strict"]["precision"]["ci95"]
    assert lo < 0.5 < hi
    text = render_web(res)
    assert "| overall |" in text and "| group blog |" in text and "lenient" in text


def test_without_strata_the_labelled_set_is_a_simple_random_sample_and_says_so(tmp_path):
    res = web_section(_labels(tmp_path / "labels", READ), _pool(tmp_path / "web"), fake_filter, n_boot=100)
    assert "simple random sample of the 100-document pool" in res["drawn"]
    # 17 readings of 16 ids, each id standing for 100/16 pages; dev: 14 ids, 3 proxy removed of 6 removed
    assert res["estimate"]["overall"]["strict"]["precision"]["value"] == pytest.approx(0.5)
    assert res["estimate"]["overall"]["size"] == pytest.approx(14 * 100 / 16)
    assert "simple random sample" in render_web(res)


def test_the_section_skips_with_its_reason_when_files_are_absent(tmp_path):
    web = _pool(tmp_path / "web")
    res = web_section(tmp_path / "nolabels", web, fake_filter)
    assert "labels.jsonl not found" in res["skipped"] and render_web(res).startswith("web section skipped:")
    res = web_section(_labels(tmp_path / "labels", READ), tmp_path / "no-shared", fake_filter)
    assert "../shared/data/web" in res["skipped"]


def test_bad_label_files_are_one_clear_error(tmp_path):
    web = _pool(tmp_path / "web")
    labels = _labels(tmp_path / "a", READ, {"pool": 100, "sizes": {"removed": 30}, "stratum": {"b0": "removed"}})
    with pytest.raises(FilterkitError, match="labelled ids have no stratum"):
        web_section(labels, web, fake_filter)
    labels = _labels(tmp_path / "b", [("b0", "blog", 0.7, "r1")])
    with pytest.raises(FilterkitError, match=r"label 0\.7"):
        web_section(labels, web, fake_filter)
    labels = _labels(tmp_path / "c", [("x0", "elsewhere", 1, "r1")])
    with pytest.raises(FilterkitError, match=r"elsewhere of labels\.jsonl have no split"):
        web_section(labels, web, fake_filter)


def test_readers_who_disagree_make_a_document_borderline():
    assert consensus_label([1.0]) == 1.0 and consensus_label([0.0, 0.0]) == 0.0
    assert consensus_label([1.0, 0.0]) == 0.5 and consensus_label([1.0, 0.5]) == 0.5
    assert consensus_label([1.0, 1.0, 0.5]) == 1.0 and consensus_label([0.0, 0.0, 0.5]) == 0.0
