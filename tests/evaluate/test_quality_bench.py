"""The quality benchmark's own parts: the obfuscation generator and the intervals (the full run needs
../shared/data and the encoder; it lives in benchmarks/, not in the suite)."""

from __future__ import annotations

import numpy as np

from benchmarks.quality_bench import boot, variants
from filterkit.match.blocklist import Blocklist, normalize

TEXT = "The influenza virus spreads between hosts and the pathogen evades immunity every season."


def test_every_variant_rewrites_the_text_and_the_normal_form_undoes_most():
    v = variants([TEXT], frozenset({"influenza", "pathogen", "immunity"}), "word " * 3000, seed=0)
    assert set(v) == {"clean", "zero_width", "soft_hyphen", "homoglyphs", "split_terms", "all_caps", "leetspeak_30",
                      "boilerplate_3000"}
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


def test_variants_are_deterministic_per_seed():
    a = variants([TEXT] * 3, frozenset({"pathogen"}), "", seed=1)
    b = variants([TEXT] * 3, frozenset({"pathogen"}), "", seed=1)
    assert a == b


def test_bootstrap_interval_brackets_the_proportion():
    m = np.r_[np.ones(90, bool), np.zeros(10, bool)]
    r = boot(m)
    assert r["value"] == 0.9 and r["n"] == 100 and r["ci95"][0] < 0.9 < r["ci95"][1]
    assert boot(np.zeros(0, bool))["value"] is None
