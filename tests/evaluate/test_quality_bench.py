"""The quality benchmark's own parts: the obfuscation generator and the intervals (the full run needs
../shared/data and the encoder; it lives in benchmarks/, not in the suite)."""

from __future__ import annotations

import numpy as np

from benchmarks.quality_bench import boot, variants
from filterkit.match.blocklist import Blocklist, normalize

TEXT = "The influenza virus spreads between hosts and the pathogen evades immunity every season."


def test_every_variant_rewrites_the_text_and_the_normal_form_undoes_most():
    v = variants([TEXT], frozenset({"influenza", "pathogen", "immunity"}), "word " * 3000, seed=0)
    assert set(v) == {
        "clean",
        "zero_width",
        "soft_hyphen",
        "homoglyphs",
        "split_terms",
        "all_caps",
        "leetspeak_30",
        "boilerplate_3000",
    }
    for name, (t,) in v.items():
        assert (t == TEXT) == (name == "clean"), name
    assert "\u200b" in v["zero_width"][0] and "\u00ad" in v["soft_hyphen"][0]
    assert any(ord(c) > 0x400 for c in v["homoglyphs"][0])
    assert "influenza" not in v["split_terms"][0].lower() and "virus" in v["split_terms"][0]  # only listed terms
    assert len(v["boilerplate_3000"][0].split()) == 3000 + len(TEXT.split())
    for name in ("zero_width", "soft_hyphen", "homoglyphs", "all_caps"):
        assert normalize(v[name][0]) == normalize(TEXT), name
    bl = Blocklist(["influenza", "pathogen", "immunity", "virus"], split_terms=True)
    for name, (t,) in v.items():
        assert bl.match(t).unique >= 3, name  # leetspeak hits 30% of words: most terms survive the fold


RANDOM_VARIANTS = ("zero_width", "soft_hyphen", "split_terms", "leetspeak_30")


def test_variants_are_deterministic_per_seed():
    a = variants([TEXT] * 3, frozenset({"pathogen"}), "", seed=1)
    b = variants([TEXT] * 3, frozenset({"pathogen"}), "", seed=1)
    other = variants([TEXT] * 3, frozenset({"pathogen"}), "", seed=2)
    assert a == b  # a rerun of the benchmark scores the same texts
    for name in RANDOM_VARIANTS:
        assert all(t != TEXT for t in a[name]), name  # the variant rewrote every copy
        assert a[name] != other[name], name  # another seed draws other positions
        assert len(set(a[name])) > 1, name  # each document has its own stream, not one shared rewrite
    assert "pathogen" not in a["split_terms"][0] and "spreads" in a["split_terms"][0]  # only the listed term


def test_bootstrap_interval_brackets_the_proportion():
    m = np.r_[np.ones(90, bool), np.zeros(10, bool)]
    r = boot(m)
    assert r["value"] == 0.9 and r["n"] == 100 and r["ci95"][0] < 0.9 < r["ci95"][1]
    assert boot(np.zeros(0, bool))["value"] is None
