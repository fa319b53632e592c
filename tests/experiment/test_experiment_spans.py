"""Span-level filtering: flagged sentences are cut, the rest of the document stays (milliseconds, no model)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from filterkit.experiment.spans import (
    SPANS_SCHEMA,
    flag_sentence_spans,
    read_run_spans,
    remove_spans,
    sentence_spans,
    span_filter,
)

DOC = (
    "Kettleholm stands on the river Tarn. The cells of Velmora kaxa are rod-shaped.\n"
    "Colony colour: pale violet   The inns are friendly."
)


def fake_score(texts: list[str]) -> list[float]:
    """Probability 0.9 for sentences about the organism, 0.1 otherwise."""
    return [0.9 if "Velmora" in t else 0.1 for t in texts]


def test_sentence_offsets_point_into_the_original_text():
    spans = sentence_spans(DOC)
    assert [DOC[s:e] for s, e in spans] == [
        "Kettleholm stands on the river Tarn.",
        "The cells of Velmora kaxa are rod-shaped.",
        "Colony colour: pale violet   The inns are friendly.",
    ]
    assert sentence_spans("") == [] and sentence_spans("  One.  ") == [(2, 6)]


def test_a_document_with_one_flagged_sentence():
    t = flag_sentence_spans(["d1", "d2"], [DOC, "Nothing here."], fake_score, threshold=0.5)
    assert t.schema == SPANS_SCHEMA and t.num_rows == 1
    row = t.to_pylist()[0]
    assert row["id"] == "d1" and DOC[row["start"] : row["end"]] == "The cells of Velmora kaxa are rod-shaped."
    assert abs(row["score"] - 0.9) < 1e-6
    left = remove_spans(DOC, [(row["start"], row["end"])])
    assert left == "Kettleholm stands on the river Tarn. Colony colour: pale violet   The inns are friendly."
    assert remove_spans(DOC, [(0, len(DOC))]) == "" and remove_spans(DOC, []) == DOC.strip()
    assert remove_spans("abcdef", [(1, 3), (2, 4)]) == "a ef"  # overlaps merge


def _run_dir(tmp_path, spans: pa.Table | None = None):
    run = tmp_path / "run"
    (run / "kept").mkdir(parents=True)
    (run / "scores").mkdir()
    pq.write_table(pa.table({"id": ["d2", "d4"]}), run / "kept" / "part.parquet")
    # d1 and d2 were escalated to the classifier (d1 removed as a document), d3 removed by the blocklist
    pq.write_table(
        pa.table({"doc_id": ["d1", "d2"], "error": pa.array([None, None], pa.string())}),
        run / "scores" / "part.parquet",
    )
    if spans is not None:
        (run / "spans").mkdir()
        pq.write_table(spans, run / "spans" / "part.parquet")
    return run


def test_span_filter_reads_the_runs_spans_export(tmp_path):
    spans = pa.table(
        {"id": ["d1"], "start": [37], "end": [78], "score": [0.93]},
        schema=pa.schema([("id", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("score", pa.float64())]),
    )
    run = _run_dir(tmp_path, spans)
    assert read_run_spans(run).schema == SPANS_SCHEMA  # cast to the export's types
    ids, texts = ["d1", "d2", "d3", "d4"], [DOC, "Plain text.", "Blocked text.", "Other text."]
    res = span_filter(ids, texts, run, tmp_path / "no-pipeline.yaml", tmp_path / "out")
    assert res["source"].startswith("RUN/spans/")
    # d1 keeps its town and inn sentences; d2 (escalated, nothing flagged) and d4 (kept) stay whole; d3 stays removed
    assert res["texts"] == [
        "Kettleholm stands on the river Tarn. Colony colour: pale violet   The inns are friendly.",
        "Plain text.",
        "Other text.",
    ]
    assert res["ids"] == ["d1", "d2", "d4"] and res["n_spans"] == 1 and res["docs_emptied"] == 0
    assert pq.read_table(tmp_path / "out" / "spans.parquet").num_rows == 1


def test_the_runs_export_layout_is_read_too(tmp_path):
    """filterkit run's spans/ rows (store.rows.SpanRow) name the document doc_id and carry more columns."""
    spans = pa.table(
        {
            "run_id": ["r"],
            "input_shard": ["a.parquet"],
            "row_index": [0],
            "doc_id": ["d1"],
            "start": [37],
            "end": [78],
            "score": pa.array([0.93], pa.float32()),
            "threshold": [0.5],
        }
    )
    run = _run_dir(tmp_path, spans)
    t = read_run_spans(run)
    assert t.schema == SPANS_SCHEMA and t.to_pylist() == [
        {"id": "d1", "start": 37, "end": 78, "score": t.to_pylist()[0]["score"]}
    ]
