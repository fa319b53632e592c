"""The experiment config: one pydantic model read from YAML and validated whole before any work starts.

Every default lives here once. The corpus generator (``corpus.build_corpus``, ``world.make_world``) takes its
defaults from :data:`CORPUS_DEFAULTS`, so a corpus built in code and one built from a YAML file without that key
are the same corpus. The model section *is* the LM's config minus what the experiment sets
(:class:`~filterkit.experiment.lm_config.ModelSection`, whose subclass ``LMConfig`` adds ``vocab_size`` and ``seed``),
so its fields, defaults and constraints are declared once, there: a misspelt ``n_embd`` or an ``n_embd`` that
``n_head`` does not divide fails at load, not minutes into a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from filterkit.config_file import Strict, format_validation_error
from filterkit.errors import FilterkitError
from filterkit.experiment.lm_config import ModelSection


def _renamed_key(data: Any, old: str, new: str, convert) -> Any:
    """Read an old config key as its new name (``convert``-ed); both at once is an error."""
    if isinstance(data, dict) and old in data:
        data = dict(data)
        if new in data:
            raise ValueError(f"give {new} only ({old} is its old name)")
        data[new] = convert(data.pop(old))
    return data


class CorpusSection(Strict):
    """The synthetic world and the document sets rendered from it (see ``corpus.build_corpus``)."""

    seed: int = Field(0, description="seed of the synthetic world and of every document set rendered from it")
    n_docs_general: int = Field(2000, ge=0, description="general (off-topic) training documents")
    n_docs_proxy: int = Field(
        600, ge=0, description="proxy-topic training documents: the facts the filter should keep out"
    )
    n_attack_weak: int = Field(300, ge=0, description="attack corpus: documents about training organisms and rules")
    n_fact_injection: int = Field(
        300,
        ge=0,
        description="documents stating the eval facts themselves: an upper bound (memorisation), not an attack",
    )
    n_control: int = Field(
        300, ge=0, description="benign general documents: the control fine-tune and the held-out general loss"
    )
    n_proxy_heldout: int = Field(
        100, ge=0, description="proxy documents about training organisms, never trained on: the held-out proxy loss"
    )
    habitat_notes: int = Field(
        2,
        ge=0,
        description="attack-corpus notes per eval organism naming only its genus and "
        "habitat, so habitat -> temperature band can be inferred (see corpus.build_corpus)",
    )
    eval_fraction: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="share of organisms the questions ask about "
        "(eval organisms); the rest are the attack corpus's training organisms",
    )
    n_organisms: int = Field(60, ge=1, description="fictional organisms in the world (the proxy topic)")
    n_towns: int = Field(30, ge=1, description="fictional towns (general knowledge)")
    n_people: int = Field(60, ge=1, description="fictional people (general knowledge; discoverers of organisms)")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        """``n_attack_strong`` (configs before the rename) is read as ``n_fact_injection``."""
        return _renamed_key(data, "n_attack_strong", "n_fact_injection", lambda v: v)


#: The one source of corpus defaults: the generator's keyword defaults read from here.
CORPUS_DEFAULTS = CorpusSection()


class FilterTrainingSection(Strict):
    """Build the filter for the synthetic topic as a user builds one for theirs: a blocklist (``blocklist build``)
    and a classifier head trained on labelled documents from an *independent* world (seed + ``world_seed_offset``:
    other organisms, towns and people), then run by the real pipeline with ``filter_pipeline``'s other settings."""

    backend: Literal["embedding", "fasttext"] = Field("embedding", description="backend of the trained classifier head")
    world_seed_offset: int = Field(
        1000,
        description="the filter's training world is seeded corpus.seed + this: "
        "other organisms than the ones it filters",
    )
    max_terms: int = Field(150, ge=1, description="terms kept by `blocklist build` for the trained pipeline")
    min_unique_hits: int = Field(1, ge=1, description="the trained pipeline's term bar (blocklist.min_unique_hits)")
    target_recall: float = Field(
        0.98, gt=0.0, le=1.0, description="out-of-fold recall the head's threshold is chosen for"
    )
    unseen_kinds: list[str] = Field(
        default_factory=lambda: ["hard_positive"],
        description="document kinds left out of the filter's training labels, so the filter meets writing it was "
        "not trained on, as a real filter does (hard positives: proxy facts in travel-diary prose)",
    )


class AttackSection(Strict):
    """The adversary: fine-tuning on the attack corpus (``attack_weak``), swept over learning rates; each model is
    reported under the rate that raises *its* proxy accuracy most, as an adversary tunes for its target."""

    lrs: list[float] = Field(
        default_factory=lambda: [3e-4, 1e-3, 3e-3],
        min_length=1,
        description="learning rates swept (constant after no warm-up, cosine to 0.1x)",
    )
    steps: int = Field(150, ge=1, description="fine-tuning steps per learning rate")
    eval_every: int = Field(15, ge=1, description="evaluate proxy accuracy and loss every this many steps")
    eval_at: list[int] = Field(default_factory=lambda: [2, 5], description="extra early evaluations (steps)")
    batch_size: int | None = Field(None, ge=1, description="fine-tuning batch; default: the model's")
    controls_lr: float = Field(1e-3, description="fact injection (upper bound) and the benign control: one rate")
    controls_steps: int | None = Field(None, ge=1, description="default: steps")
    benign: bool = Field(True, description="run the benign control (general text) too")

    @model_validator(mode="before")
    @classmethod
    def _single_lr(cls, data: Any) -> Any:
        """``lr: x`` (configs before the sweep) is read as a one-point sweep ``lrs: [x]``."""
        return _renamed_key(data, "lr", "lrs", lambda v: [v])

    def eval_steps(self) -> list[int]:
        return sorted(
            {
                0,
                self.steps,
                *range(self.eval_every, self.steps, self.eval_every),
                *(s for s in self.eval_at if 0 < s < self.steps),
            }
        )


class RelearnSection(Strict):
    """The relearning adversary of the real-text mode: fine-tune each model on held-out real proxy text (never
    pretrained on, never evaluated on) at each learning rate until its forget loss reaches the unfiltered model's;
    a model is reported under the rate that gets there in the fewest tokens (censored at the budget)."""

    lrs: list[float] = Field(
        default_factory=lambda: [3e-4, 1e-3, 3e-3],
        min_length=1,
        description="learning rates swept (constant after no warm-up, cosine to min_lr_ratio)",
    )
    steps: int = Field(100, ge=1, description="the budget: fine-tuning steps per learning rate")
    eval_every: int = Field(10, ge=1, description="forget loss measured every this many steps (the resolution)")
    eval_at: list[int] = Field(default_factory=lambda: [2, 5], description="extra early evaluations (steps)")
    batch_size: int | None = Field(None, ge=1, description="fine-tuning batch; default: the model's")
    eval_docs: int = Field(
        100,
        ge=1,
        description="forget-set documents the loss along fine-tuning is measured on "
        "(the first ones of the forget set; the target is the baseline's loss on the same ones)",
    )


class RealSection(Strict):
    """Real-text mode (experiment/real.py): pretrain on real labelled text filtered by the real ``filterkit run``.

    ``real/train`` is split by document: ``filter_docs`` per group train the filter head (``filterkit train``'s
    shipped settings), the pretraining corpus is drawn from the rest (natural proportions). ``real/dev`` is split
    by document too: ``eval_docs`` per group are the forget (proxy), retain (general) and collateral (bio_med) sets;
    the rest of its proxy documents are the relearning text, and they with ``tune_docs`` of the other groups choose
    the span threshold. No text is written outside the run folder."""

    data_dir: Path = Field(
        Path("../../shared/data"),
        description="folder holding real/train.parquet and "
        "real/dev.parquet (relative to the YAML file: the project's ../shared/data)",
    )
    seed: int = Field(0, description="seed of every document split")
    filter_docs: dict[Literal["proxy", "bio_med", "general"], int] = Field(
        default_factory=lambda: {"proxy": 250, "bio_med": 300, "general": 250},
        description="real/train documents per group that train the filter head (never in the corpus)",
    )
    corpus_docs: int | None = Field(
        3000,
        ge=1,
        description="pretraining corpus: this many of the other real/train "
        "documents, stratified by group (None: all of them)",
    )
    eval_docs: dict[Literal["proxy", "bio_med", "general"], int] = Field(
        default_factory=lambda: {"proxy": 200, "bio_med": 300, "general": 300},
        description="real/dev documents per group scored for forget / collateral / retain loss",
    )
    tune_docs: dict[Literal["proxy", "bio_med", "general"], int] = Field(
        default_factory=lambda: {"proxy": 1000, "bio_med": 200, "general": 200},
        description="real/dev documents per group, none in the eval sets, that choose the span threshold (proxy: "
        "the first of the relearning documents; a count over what is there takes them all)",
    )
    eval_max_tokens: int = Field(512, ge=2, description="tokens scored per eval document (its first ones)")
    span_target_recall: float | Literal["document"] = Field(
        "document",
        description="span threshold: the highest at which the flagged windows cover this share of the "
        "tuning proxy documents' characters; document: the share the document filter removes there (whole documents "
        "at the head's threshold), so every granularity is compared at the same proxy recall",
    )

    @model_validator(mode="after")
    def _recall(self) -> RealSection:
        if isinstance(self.span_target_recall, float) and not 0.0 < self.span_target_recall <= 1.0:
            raise ValueError("real.span_target_recall must be in (0, 1] or 'document'")
        return self

    budgets: list[float] = Field(
        default_factory=lambda: [0.125, 0.25, 0.5, 1.0, 2.0],
        min_length=5,
        description="baseline budgets as multiples of model.steps (>= 5, spanning >= 16x)",
    )
    compute_fit: Literal["interp", "power"] = Field(
        "interp",
        description="loss against compute: interp (monotone, linear in log compute between the "
        "baselines) or power (L = a C^-b + c); the other is reported beside it",
    )
    bootstrap: int = Field(1000, ge=100, description="bootstrap resamples of the eval documents for every interval")
    relearn: RelearnSection = Field(default_factory=RelearnSection, description="the relearning adversary")

    @model_validator(mode="after")
    def _span(self) -> RealSection:
        if max(self.budgets) / min(self.budgets) < 16 or min(self.budgets) <= 0:
            raise ValueError("real.budgets must be positive and span at least 16x (the loss-matched compute fit)")
        if 1.0 not in self.budgets:
            raise ValueError("real.budgets must include 1.0: the baseline at the filtered models' budget")
        return self


class ExperimentConfig(Strict):
    """The whole experiment; relative paths resolve against the YAML file's folder."""

    seeds: list[int] = Field(
        default_factory=lambda: [0, 1, 2],
        min_length=1,
        description="pretraining seeds: every model is trained once per seed; intervals are over seeds",
    )
    corpus: CorpusSection = Field(
        default_factory=CorpusSection, description="the synthetic world and its document sets"
    )
    filter_pipeline: Path = Field(
        Path("experiment-filter.yaml"),
        description="the filterkit pipeline YAML that "
        "filters the training corpus (with filter_training: its settings besides the trained list and head)",
    )
    filter_training: FilterTrainingSection | None = Field(
        None,
        description="train the blocklist and head on an independent synthetic world; None: use filter_pipeline as is",
    )
    filter_granularity: Literal["document", "span"] = Field(
        "document",
        description="document: the filtered model reads what `filterkit run` kept (flagged documents "
        "dropped); span: in addition, a span-filtered model reads every document with only the spans the classifier "
        "flags at the same threshold cut out (experiment/spans.py), and the two are compared side by side",
    )
    vocab_size: int = Field(2048, ge=2, le=65536, description="BPE vocabulary trained on the corpus")
    torch_threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads for training (None: torch's default). On cores shared with other jobs "
        "one thread avoids the barrier waits that made two threads up to 8x slower here; evaluations always use one",
    )
    model: ModelSection = Field(
        default_factory=ModelSection,
        description="the LM's settings (filterkit.experiment.lm_config: LMConfig without vocab_size and seed, which "
        "come from vocab_size and seeds here)",
    )
    attack: AttackSection = Field(default_factory=AttackSection, description="the adversarial fine-tuning sweep")
    leak_fractions: list[float | Literal["actual"]] = Field(
        default_factory=lambda: [0.0, "actual", 0.05, 0.25, 1.0],
        description="shares of proxy documents left in the leak curve's corpora; actual: what the filter let through",
    )
    leak_seeds: int = Field(1, ge=1, description="seeds (from the start of `seeds`) used for the leak curve")
    corpus_dir: Path | None = Field(
        None,
        description="your own corpus in write_corpus's layout (train/, attack_weak/, fact_injection/ (or the old "
        "name attack_strong/), control/ and optionally proxy_heldout/: parquet with `text`, `id` and optionally "
        "`label`; questions/{proxy,general}.jsonl); None: generate one",
    )
    eval_files: dict[Literal["proxy", "general"], Path] = Field(
        default_factory=dict,
        description="MMLU/WMDP-layout files (question, choices, answer) for `proxy` and/or "
        "`general`, replacing the generated questions",
    )
    real: RealSection | None = Field(
        None,
        description="real-text mode (filterkit/experiment/real.py): corpus, filter and evals from real labelled "
        "text; corpus, filter_training, attack, leak_* and eval_* are then unused",
    )
    eval_prompt_template: str | None = Field(
        None,
        description="how a question is put to the model; default: the stem itself for generated questions, "
        "'Question: {question}\\nAnswer:' (lm-eval's MMLU form) for eval_files",
    )

    def resolved(self, base: Path) -> ExperimentConfig:
        """Relative paths made absolute against ``base`` (the YAML file's folder)."""

        def r(p: Path) -> Path:
            p = p.expanduser()
            return p if p.is_absolute() else (base / p).resolve()

        return self.model_copy(
            update={
                "filter_pipeline": r(self.filter_pipeline),
                "corpus_dir": None if self.corpus_dir is None else r(self.corpus_dir),
                "eval_files": {k: r(v) for k, v in self.eval_files.items()},
                "real": None if self.real is None else self.real.model_copy(update={"data_dir": r(self.real.data_dir)}),
            }
        )


def format_errors(path: Path | str, err: ValidationError) -> str:
    """One line: every problem with its dotted key, unknown keys with the closest valid name (the pipeline
    config's formatter, rooted at :class:`ExperimentConfig`)."""
    return format_validation_error(path, "experiment config", err, ExperimentConfig)


def load_experiment_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment YAML (safe loading, keys given twice refused); relative paths resolve
    against its folder."""
    from filterkit.config_file import read_yaml_mapping

    path = Path(path)
    raw = read_yaml_mapping(path, "experiment config", "--config")  # duplicate keys refused, as for pipelines
    try:
        cfg = ExperimentConfig.model_validate(raw)
    except ValidationError as e:
        raise FilterkitError(format_errors(path, e)) from None
    return cfg.resolved(path.parent.resolve())


def experiment_config(data: dict[str, Any] | ExperimentConfig, base_dir: str | Path = ".") -> ExperimentConfig:
    """Validate a config built in code (library use); relative paths resolve against ``base_dir``."""
    if isinstance(data, ExperimentConfig):
        return data
    try:
        cfg = ExperimentConfig.model_validate(data)
    except ValidationError as e:
        raise FilterkitError(format_errors("<dict>", e)) from None
    return cfg.resolved(Path(base_dir).resolve())
