"""filterkit: keep a topic out of pretraining data with a cheap blocklist and an embedding classifier.

Library first: everything the CLI does is a function here.

>>> from filterkit import run
>>> result = run("sample_data/shards", "pipelines/biorisk.yaml", "runs/demo")  # doctest: +SKIP
>>> result.counts["kept"]  # doctest: +SKIP
"""

from filterkit.config import PipelineConfig, config_from_dict, load_config
from filterkit.errors import FilterkitError
from filterkit.runs.prepared import RunResult
from filterkit.runs.runner import prepare, run
from filterkit.stages import BlocklistStage, ClassifierStage, ShardReader, ShardWriter
from filterkit.version import __version__

__all__ = [
    "BlocklistStage",
    "ClassifierStage",
    "FilterkitError",
    "PipelineConfig",
    "RunResult",
    "ShardReader",
    "ShardWriter",
    "__version__",
    "config_from_dict",
    "load_config",
    "prepare",
    "run",
]
