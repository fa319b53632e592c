"""The blocklist's matching semantics. Speed work must keep every one of these true."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from filterkit.errors import FilterkitError
from filterkit.match.blocklist import Blocklist, normalize, read_terms

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
    vocab = [
        "virus",
        "viruses",
        "Virus",
        "influenza",
        "plasmid",
        "plasmids",
        "e.",
        "coli",
        "the",
        "x",
        "VIRUS",
        "_",
        "-",
        "\n",
        "  ",
        "pathogen",
        "pathogenic",
        "anti",
        "straße",
        "ＶＩＲＵＳ",
        "é",
    ]
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


# ---------------------------------------------------------------- obfuscation-resistant normal form


@pytest.mark.parametrize(
    "disguised",
    [
        "vi\u200brus and bac\u200bteria",  # zero-width space inside words
        "vi\u00adrus and bac\u00adteria",  # soft hyphen
        "vi\u200d\u200crus and \ufeffbacteria\u200e",  # joiners, BOM, bidi mark
        "vi\U000e0061rus and bacteria",  # a tag character
        "vіrus and bасtеrіа",  # Cyrillic і а с е
        "VIRUS AND BACTERIA",  # all caps
        "v1ru5 and b4ct3r14",  # leetspeak digits inside words
        "vi rus and bac-teria",  # split once by a space or a hyphen
        "v i r u s and b.a.c.t.e.r.i.a",  # spelled out
    ],
)
def test_each_obfuscation_still_matches(disguised):
    bl = Blocklist(["virus", "bacteria"], split_terms=True)
    assert bl.match(disguised).counts == {"virus": 1, "bacteria": 1}, disguised


def test_format_characters_and_look_alikes_fold_in_normalize():
    assert normalize("ｖі\u200bruѕ\u00ad") == "virus"
    # Latin letters are spelling, not disguise: they stay
    assert normalize("Straße café") == "strasse café"


def test_leet_fold_leaves_numbers_alone():
    bl = Blocklist(["covid-19", "h5n1", "virus"])
    assert bl.match("COVID-19 in 2019, h5n1 and H5N1, virus 2").counts == {"covid-19": 1, "h5n1": 2, "virus": 1}
    # a digit is a letter only next to a letter, so word boundaries around numbers are unchanged
    assert bl.match("virus5 and 5virus").counts == {}


def test_split_terms_only_for_long_one_word_terms_and_off_by_default():
    assert Blocklist(["virus"]).match("vi rus").counts == {}
    bl = Blocklist(["hiv", "virus", "influenza virus"], split_terms=True)
    assert bl.match("h iv and hi v").counts == {}  # short terms: split spellings are ordinary words too often
    assert bl.match("influ enza vi rus").counts == {"virus": 1}  # phrases are not split, their words are
    assert bl.match("avi rus or vi rusty").counts == {}  # word boundaries still hold around a split spelling


def test_words_per_document():
    got = Blocklist(["virus"]).count_many(["one two  three", "", "virus\n\nvirus", "x"], with_words=True)
    assert got.words.tolist() == [3, 0, 2, 1]
