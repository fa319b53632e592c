"""The blocklist's matching semantics. Speed work must keep every one of these true."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from filterkit.blocklist import Blocklist, normalize, read_terms
from filterkit.errors import FilterkitError

TERMS = ["virus", "viruses", "influenza virus", "e. coli", "plasmid", "straße", "pathogen"]


def test_case_insensitive_and_counts():
    m = Blocklist(TERMS).match("A VIRUS, a Virus and a plasmid. Plasmid!")
    assert m.counts == {"virus": 2, "plasmid": 2}
    assert (m.unique, m.total) == (2, 4)


def test_word_boundaries():
    bl = Blocklist(["virus", "plasmid"])
    assert bl.match("antivirus software and viruses and plasmids").counts == {}
    assert bl.match("virus_scan virus2 avirus").counts == {}
    assert bl.match("(virus) virus. virus-like").counts == {"virus": 3}


def test_phrases_overlap_and_whitespace():
    bl = Blocklist(TERMS)
    m = bl.match("An Influenza\n   Virus sample")
    assert m.counts == {"influenza virus": 1, "virus": 1}


def test_unicode_normalisation():
    bl = Blocklist(TERMS)
    # fullwidth letters fold by NFKC, ß casefolds to ss on both sides
    assert bl.match("ＶＩＲＵＳ").counts == {"virus": 1}
    assert bl.match("STRASSE und Straße").counts == {"strasse": 2}  # terms are reported normalised
    assert bl.match("E. coli and e. colipedia").counts == {"e. coli": 1}
    # a term ending in punctuation has no boundary requirement on that side, like regex \b
    assert Blocklist(["c++"]).match("C++11, c++ and abc++").counts == {"c++": 2}


def test_matches_a_naive_reference_on_random_text():
    """The automaton + boundary checks agree with a per-term regex loop on messy random text."""
    rng = random.Random(7)
    vocab = ["virus", "viruses", "Virus", "influenza", "plasmid", "plasmids", "e.", "coli", "the", "x", "VIRUS", "_",
             "-", "\n", "  ", "pathogen", "pathogenic", "anti", "straße", "ＶＩＲＵＳ", "é"]
    bl = Blocklist(TERMS)
    for _ in range(300):
        text = "".join(rng.choice(vocab) + rng.choice([" ", "", ",", "\t"]) for _ in range(rng.randint(0, 30)))
        norm = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        expected = {}
        for t in bl.terms:
            pat = (r"(?<!\w)" if t[0].isalnum() else "") + re.escape(t) + (r"(?!\w)" if t[-1].isalnum() else "")
            n = len(re.findall(f"(?=({pat}))", norm))
            if n:
                expected[t] = n
        assert bl.match(text).counts == expected, text


def test_term_file_comments_and_dedup(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("# header\nVirus\nvirus   # again\n\n  plasmid \n", encoding="utf-8")
    assert read_terms(f) == ["virus", "plasmid"]


def test_term_file_errors(tmp_path):
    with pytest.raises(FilterkitError, match="not found"):
        read_terms(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(FilterkitError, match="no terms"):
        read_terms(empty)


def test_normalize_is_idempotent():
    s = "Ｆｕｌｌ\twidth  STRASSE\nß"
    assert normalize(normalize(s)) == normalize(s)


def test_ascii_fast_path_equals_general_normal_form():
    rng = random.Random(3)
    alphabet = "abcXYZ \n\t\r\x0b\x0c\x1c.,-_19"
    for _ in range(500):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        general = " ".join(unicodedata.normalize("NFKC", s).casefold().split())
        assert normalize(s) == general, repr(s)


def test_match_many_equals_match_one_by_one():
    rng = random.Random(11)
    vocab = ["virus", "viruses", "Influenza", "plasmid", "e.", "coli", "the", "-", "\n", "é", "ＶＩＲＵＳ", "straße"]
    docs = ["".join(rng.choice(vocab) + rng.choice([" ", ""]) for _ in range(rng.randint(0, 12))) for _ in range(200)]
    bl = Blocklist(TERMS)
    assert bl.match_many(docs) == [bl.match(d) for d in docs]
    assert [m.counts for m in bl.match_many(["virus", "", "virus"])] == [{"virus": 1}, {}, {"virus": 1}]


def test_batches_with_non_ascii_neighbours_and_nul():
    """Hits next to non-ASCII letters/punctuation, NUL inside a document, and empty documents."""
    bl = Blocklist(TERMS)
    docs = ["virusé", "éviruses", "—virus—", "«virus»", "a\x00virus", "", "vírus", "ＶＩＲＵＳ plasmid"]
    expected = [{}, {}, {"virus": 1}, {"virus": 1}, {"virus": 1}, {}, {}, {"virus": 1, "plasmid": 1}]
    assert [m.counts for m in bl.match_many(docs)] == expected
    assert [bl.match(d).counts for d in docs] == expected


def test_every_unicode_space_collapses_like_str_split():
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    for sp in spaces:
        assert normalize(f"a{sp}{sp}b{sp}") == "a b", hex(ord(sp))


def test_count_many_names_terms_only_at_the_bar():
    """Counts for every document equal match_many's; terms are named only where unique >= detail_min_unique."""
    rng = random.Random(5)
    vocab = ["virus", "plasmid", "Influenza", "coli", "e.", "the", "é", "\n"]
    docs = ["".join(rng.choice(vocab) + " " for _ in range(rng.randint(0, 8))) for _ in range(300)]
    bl = Blocklist(TERMS)
    full = bl.match_many(docs)
    for k in (1, 2, 3):
        got = bl.count_many(docs, detail_min_unique=k)
        assert got.unique.tolist() == [m.unique for m in full]
        assert got.total.tolist() == [m.total for m in full]
        assert got.terms == {i: m.counts for i, m in enumerate(full) if m.unique >= k}
    assert bl.count_many([]).unique.tolist() == []
