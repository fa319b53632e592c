"""The shipped cheap stage on real labelled text (needs ../shared/data; the full cascade is
benchmarks/quality_bench.py, too slow for the suite because it runs the encoder)."""

from __future__ import annotations

import numpy as np
import pytest

from filterkit.config import load_config
from filterkit.match.escalation import Escalator
from tests.conftest import ROOT

DEV = ROOT.parent / "shared" / "data" / "real" / "dev.parquet"
NEWS = ROOT.parent / "shared" / "data" / "ag_news_test.parquet"

pytestmark = pytest.mark.skipif(not DEV.is_file(), reason="needs ../shared/data/real/dev.parquet")


@pytest.fixture(scope="module")
def escalator():
    cfg = load_config(ROOT / "pipelines" / "biorisk.yaml")
    return Escalator(cfg.blocklist, cfg.semantic_gate)


@pytest.mark.slow  # the whole of real/dev through the cheap stage
def test_shipped_cheap_stage_escalates_real_proxy_documents(escalator):
    import pyarrow.parquet as pq

    dev = pq.read_table(DEV, columns=["text", "label", "group"]).to_pandas()
    esc = escalator(dev["text"].tolist()).escalated
    pos = dev["label"].to_numpy() == 1
    general = dev["group"].to_numpy() == "general"
    assert esc[pos].mean() >= 0.98  # the target; quality_bench.py reports it with an interval
    assert esc[general].mean() <= 0.10


@pytest.mark.skipif(not NEWS.is_file(), reason="needs ../shared/data/ag_news_test.parquet")
def test_shipped_cheap_stage_escalates_little_news(escalator):
    import pyarrow.parquet as pq

    news = pq.read_table(NEWS, columns=["text"]).column("text").to_pylist()
    assert np.mean(escalator(news).escalated) <= 0.10
