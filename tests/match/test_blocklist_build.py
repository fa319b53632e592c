"""Blocklist building: ranking, stop-word edges, support, and a term file the matcher reads back."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filterkit.errors import FilterkitError
from filterkit.io import file_sha256
from filterkit.match.blocklist import Blocklist, read_terms
from filterkit.match.build import (
    STOP_WORDS,
    TermScore,
    build_blocklist,
    build_terms,
    doc_ngrams,
    log_odds_z,
    sub_phrases,
    write_term_file,
)

# "spore germination" is in every positive and no negative; "spore" and "germination" alone are common in
# the negatives too, so the phrase separates best. "endospore staining" is in two positives only.
POS = [
    "Spore germination begins when nutrients reach the dormant cell and the coat breaks open.",
    "Studies of spore germination in soil measure how quickly dormant cells resume growth.",
    "During spore germination the cell rehydrates; endospore staining shows the change.",
    "Heat shock can trigger spore germination, a step studied with endospore staining.",
    "The timing of spore germination depends on temperature and on the nutrients available.",
    "Researchers compared spore germination rates across several laboratory strains.",
]
NEG = [
    "Fern spore prints make a pleasant craft project; seed germination is a good one too.",
    "Seed germination is faster when the soil is warm, and a fern spore needs damp shade.",
    "The museum shop sold a spore print poster; the garden shop sold germination trays.",
    "Good germination of tomato seeds needs light and warmth; a puffball releases a spore cloud.",
    "The football club announced a new coach after a difficult season.",
    "A simple bread needs flour, water, salt and yeast, and a warm place to rise.",
]


def write_labels(path: Path, texts: list[str], labels: list[int]) -> Path:
    pq.write_table(pa.table({"text": texts, "label": pa.array(labels, pa.int64())}), path)
    return path


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_labels(tmp_path / "labels.parquet", POS + NEG, [1] * len(POS) + [0] * len(NEG))


def test_discriminative_phrase_ranks_first(corpus):
    terms = build_terms(corpus, max_terms=50, min_support=3, drop_nested=False)
    assert terms[0].term == "spore germination"
    assert (terms[0].pos_docs, terms[0].neg_docs) == (6, 0)
    assert [(t.pos_docs, t.neg_docs) for t in terms if t.term in ("spore", "germination")] == [(6, 4), (6, 4)]
    z = {t.term: t.z for t in terms}
    assert z["spore germination"] > z["spore"] > 0 and z["spore germination"] > z["germination"]
    assert all(t.z > 0 for t in terms)
    assert [(-t.z, t.term) for t in terms] == sorted((-t.z, t.term) for t in terms)


def test_nested_terms_are_dropped_by_default(corpus):
    terms = [t.term for t in build_terms(corpus, max_terms=1000, min_support=1)]
    assert terms[0] == "spore germination"
    assert "spore" not in terms and "germination" not in terms
    bl = Blocklist(terms)
    for t in terms:  # one occurrence of a listed term is one unique hit, never more
        assert bl.match(t).counts == {t: 1}, t


def test_no_stop_word_at_an_edge(corpus):
    terms = [t.term for t in build_terms(corpus, max_terms=1000, min_support=1, drop_nested=False)]
    assert "dormant cell" in terms or "dormant cells" in terms  # stop words inside are fine, edges not
    for term in terms:
        words = term.replace("-", " ").split()
        assert words[0] not in STOP_WORDS and words[-1] not in STOP_WORDS, term
        assert len(words) <= 3
    assert "the cell" not in terms and "germination in" not in terms and "of spore germination" not in terms
    assert sorted(doc_ngrams("Rate of spore germination.", ngram_max=3)) == [
        "germination",
        "rate",
        "rate of spore",
        "spore",
        "spore germination",
    ]


def test_phrases_do_not_cross_punctuation():
    assert "cell coat" not in doc_ngrams("the cell; coat")
    assert "heat-shock response" in doc_ngrams("A heat-shock response")  # hyphen joins, as the matcher sees it


def test_min_support_is_respected(corpus):
    three = build_terms(corpus, max_terms=1000, min_support=3, drop_nested=False)
    assert "endospore staining" not in [t.term for t in three]
    assert all(t.pos_docs >= 3 for t in three)
    two = {t.term: t for t in build_terms(corpus, max_terms=1000, min_support=2, drop_nested=False)}
    assert two["endospore staining"].pos_docs == 2
    assert len(build_terms(corpus, max_terms=2, min_support=1)) == 2


def test_sub_phrases():
    assert sub_phrases("heat-shock response") == {
        "heat",
        "shock",
        "response",
        "heat-shock",
        "shock response",
        "heat-shock response",
    }


def test_prior_shrinks_rare_terms():
    # a term in 1 of 1 positive docs scores below one in 50 of 100 with the same zero negatives
    pos = {"rare": 1, "common": 50, "filler": 100}
    neg = {"filler": 100}
    z = {t.term: t.z for t in log_odds_z(pos, neg, prior_scale=0.01)}
    assert z["common"] > z["rare"] > 0 > z["filler"]


def test_written_file_round_trips_and_is_deterministic(corpus, tmp_path):
    out = tmp_path / "bl" / "terms.txt"
    terms = build_blocklist(corpus, out, max_terms=20, min_support=3)
    first = out.read_bytes()
    assert read_terms(out) == [t.term for t in terms]
    text = out.read_text()
    assert file_sha256(corpus) in text and "labels.parquet" in text and "Monroe" in text
    assert "12 (6 positive, 6 negative)" in text and "nested: a term inside" in text
    build_blocklist(corpus, out, max_terms=20, min_support=3)
    assert out.read_bytes() == first
    assert not list(out.parent.glob("*.tmp"))
    # every term matches, on word boundaries, the positive documents it was counted in
    bl = Blocklist.from_file(out)
    for t in terms:
        assert sum(t.term in bl.match(d).counts for d in POS) == t.pos_docs, t.term


def test_write_term_file_refuses_empty_and_comment_chars(tmp_path):
    with pytest.raises(FilterkitError, match="no terms to write"):
        write_term_file([], tmp_path / "x.txt", {})
    with pytest.raises(FilterkitError, match="cannot be written"):
        write_term_file([TermScore("c# code", 1.0, 3, 0)], tmp_path / "x.txt", {})


@pytest.mark.parametrize(
    ("labels", "message"),
    [([0, 0], "no positives"), ([1, 1], "no negatives")],
)
def test_single_class_labels_are_refused(tmp_path, labels, message):
    path = write_labels(tmp_path / "l.parquet", ["a b", "c d"], labels)
    with pytest.raises(FilterkitError, match=message):
        build_terms(path)


def test_missing_label_column(tmp_path):
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"text": ["a"]}), path)
    with pytest.raises(FilterkitError, match="no 'label' column"):
        build_terms(path)


def test_bad_settings(corpus):
    with pytest.raises(FilterkitError, match="min_support >= 1"):
        build_terms(corpus, min_support=0)
