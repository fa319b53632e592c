"""datatrove pipeline steps: read shards, match the blocklist, classify, write outputs."""

from filterkit.stages.base import DecisionStage
from filterkit.stages.blocklist import BlocklistStage
from filterkit.stages.classifier import ClassifierStage
from filterkit.stages.reader import ShardReader
from filterkit.stages.writer import ShardWriter

__all__ = ["BlocklistStage", "ClassifierStage", "DecisionStage", "ShardReader", "ShardWriter"]
