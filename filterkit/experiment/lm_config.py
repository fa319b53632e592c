"""The tiny LM's settings, declared once: the experiment's ``model:`` section, and one training run's config.

:class:`ModelSection` is what a user sets in the experiment YAML; :class:`LMConfig` *is* that section plus the two
fields the experiment itself sets (``vocab_size``: the trained tokenizer's size; ``seed``: each entry of ``seeds``),
so every field, default and constraint is written here once and a YAML's ``model:`` is validated by the very model
that trains. No torch here: a config is validated (and a bad one refused) before anything heavy is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator
from typing_extensions import Self

from filterkit.config_file import Strict, format_validation_error
from filterkit.errors import FilterkitError


class ModelSection(Strict):
    """The LM's architecture and training settings (the experiment config's ``model:``); ``vocab_size`` and ``seed``
    are not among them: the experiment sets those (:meth:`lm_config`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_layer: int = Field(2, ge=1, description="transformer blocks")
    n_head: int = Field(2, ge=1, description="attention heads (must divide n_embd)")
    n_embd: int = Field(64, ge=1, description="hidden size")
    block_size: int = Field(64, ge=2, description="context length in tokens")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout rate in training")
    lr: float = Field(1e-3, gt=0.0, description="peak pretraining learning rate (AdamW)")
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0, description="the cosine schedule ends at lr x this")
    warmup: int = Field(10, ge=0, description="linear warm-up steps")
    steps: int = Field(
        100, ge=0, description="pretraining steps (tokens = steps x batch_size x block_size, the same for every model)"
    )
    batch_size: int = Field(16, ge=1, description="sequences per pretraining step")
    weight_decay: float = Field(0.1, ge=0.0, description="AdamW weight decay")
    grad_clip: float = Field(1.0, gt=0.0, description="gradient-norm clip")
    device: str = Field("auto", description="auto | cpu | cuda (auto: CUDA when torch sees a GPU)")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bf16 autocast on CUDA, fp32 on CPU; weights and optimizer stay fp32"
    )
    compile: bool = Field(
        False, description="torch.compile the model for training (CUDA only; pays off past ~1k steps)"
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> ModelSection:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        return self

    def lm_config(self, vocab_size: int, seed: int = 0) -> LMConfig:
        """The config of one training run: these settings with the tokenizer's size and the run's seed."""
        return LMConfig.model_validate({**self.to_dict(), "vocab_size": vocab_size, "seed": seed})

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (``lm_config.json``, results.json's ``model``)."""
        return self.model_dump(mode="json")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated like a new config (e.g. a fine-tuning run's lr and steps)."""
        return type(self).model_validate({**self.to_dict(), **changes})


class LMConfig(ModelSection):
    """Everything that decides a training run; saved as ``lm_config.json`` beside the checkpoint.

    Frozen and validated by pydantic (unknown keys and out-of-range values fail at construction, all at once);
    :meth:`from_dict` is the way in from a file: it turns pydantic's error into one line naming the file.
    """

    vocab_size: int = Field(512, ge=1, le=65536, description="token memmaps are uint16, so at most 65536")
    seed: int = Field(0, description="weight init, dropout and batch order")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "config") -> LMConfig:
        """Build from a mapping read from ``source`` (a file or config section), with one-line errors naming it."""
        try:
            return cls.model_validate(dict(d))
        except ValidationError as e:
            raise FilterkitError(format_validation_error(source, "LM config", e, cls)) from None

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema()
