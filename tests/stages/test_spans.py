"""classifier.export_spans: the windows of a removed document that reached the threshold, as character spans
of the text as read, in spans/ (for loss masking or span removal in a user's own trainer)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from filterkit import run
from filterkit.classify.encoder import clean_offsets
from filterkit.match.blocklist import clean_text
from filterkit.runs.verify import verify
from filterkit.store.rows import SPANS_SCHEMA
from tests.conftest import GENERAL, PROXY, write_pipeline, write_shard


def test_clean_offsets_point_at_the_original_characters():
    text = "The vi\u200brus and the \u0432acteria"  # a zero-width space and a Cyrillic look-alike
    clean = clean_text(text)
    assert clean != text and "virus" in clean
    back = clean_offsets(text, clean)
    j = clean.index("virus")
    assert text[back[j] : back[j + len("virus")]] == "vi\u200brus"
    assert clean_offsets("plain", "plain") == list(range(6))


@pytest.mark.slow
def test_a_document_with_one_flagged_window_exports_that_span(tmp_path):
    general = " ".join(GENERAL * 2)
    proxy = PROXY[0]
    doc = f"{general} {proxy} {general}"
    write_shard(tmp_path / "in" / "s.parquet", [doc, GENERAL[0]])
    pipe = write_pipeline(
        tmp_path / "p.yaml",
        blocklist={"min_unique_hits": 1},
        classifier={"export_spans": True, "max_tokens": 48, "threshold": 0.5},
    )
    res = run(tmp_path / "in", pipe, tmp_path / "out")
    assert res.counts["removed_classifier"] == 1
    spans = pq.read_table(tmp_path / "out" / "spans" / "s.parquet")
    assert spans.schema.equals(SPANS_SCHEMA, check_metadata=False)
    rows = spans.to_pylist()
    assert rows and all(r["row_index"] == 0 and r["score"] >= r["threshold"] == 0.5 for r in rows)
    p0, p1 = doc.index(proxy), doc.index(proxy) + len(proxy)
    for r in rows:  # every flagged span overlaps the proxy passage; the general text around it is not flagged
        assert r["start"] < p1 and r["end"] > p0, doc[r["start"] : r["end"]]
    assert sum(r["end"] - r["start"] for r in rows) < len(doc) / 2
    assert verify(tmp_path / "out").ok  # spans/ is recorded in the done marker and checked
