"""filterkit: keep a topic out of pretraining data with a cheap blocklist and an embedding classifier.

Library first: everything the CLI does is a function here.

>>> from filterkit import run
>>> result = run("sample_data/shards", "pipelines/biorisk.yaml", "runs/demo")  # doctest: +SKIP
>>> result.counts["kept"]  # doctest: +SKIP
"""

from filterkit.config import PipelineConfig, config_from_dict, load_config
from filterkit.errors import FilterkitError  # noqa: E402
from filterkit.runs.prepared import RunResult
from filterkit.runs.runner import prepare, run
from filterkit.stages import BlocklistStage, ClassifierStage, ShardReader, ShardWriter  # noqa: E402
from filterkit.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "FilterkitError",
    "PipelineConfig",
    "RunResult",
    "BlocklistStage",
    "ClassifierStage",
    "ShardReader",
    "ShardWriter",
    "config_from_dict",
    "load_config",
    "prepare",
    "run",
]
