"""The cheap first stage: count blocklist terms, then escalate (or remove) documents at the bar."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline

from filterkit import contract
from filterkit.config import BlocklistConfig, PipelineConfig, SemanticGateConfig
from filterkit.errors import FilterkitError
from filterkit.match.escalation import Escalator
from filterkit.match.gate import read_gate_config
from filterkit.stages.base import DecisionStage, shard_of

_BATCH_DOCS = 1024
_BATCH_CHARS = 4 << 20


class BlocklistStage(DecisionStage):
    """The cheap stage: counts unique terms and total hits per document, and optionally runs the
    semantic gate on documents below the term bar (the decision rule is :mod:`filterkit.match.escalation`).

    ``mode="escalate"`` (the Deep Ignorance design) marks documents over the bar for the classifier and
    keeps the rest; ``mode="remove"`` removes documents over the term bar outright (the "strong filter"
    variant, no classifier, no gate). Every document gets the same metadata keys (``None`` where a value
    does not apply), so datatrove's own writers see one schema.
    """

    name = "blocklist"

    def __init__(
        self,
        blocklist: BlocklistConfig | dict,
        semantic_gate: SemanticGateConfig | dict | None = None,
        *,
        drop_removed: bool = True,
        exclusion_writer=None,
    ) -> None:
        """``blocklist`` and ``semantic_gate`` are the pipeline config's sections, whole (a dict is validated as
        one); a disabled or absent gate does not run."""
        super().__init__(drop_removed, exclusion_writer)
        self.config = BlocklistConfig.model_validate(blocklist)
        gate = SemanticGateConfig.model_validate(semantic_gate) if semantic_gate is not None else None
        if gate is not None and gate.enabled:
            if self.config.mode != "escalate":
                raise FilterkitError("a semantic gate only escalates; use it with blocklist mode: escalate")
            read_gate_config(gate.path)  # fail early, before any worker starts
        self.escalator = Escalator(self.config, gate)
        # this stage decides only in remove mode; the classifier stage otherwise
        self.rule = contract.Rule.from_config(blocklist=self.config)

    @classmethod
    def from_config(cls, cfg: PipelineConfig, drop_removed: bool = True, exclusion_writer=None) -> BlocklistStage:
        """The stage a pipeline config describes (``filterkit run`` builds it so)."""
        return cls(cfg.blocklist, cfg.semantic_gate, drop_removed=drop_removed, exclusion_writer=exclusion_writer)

    @property
    def blocklist(self):
        return self.escalator.blocklist

    def _annotate(self, batch: list[Document]) -> None:
        for d in batch:
            contract.ensure_keys(d)
        todo = [d for d in batch if not contract.is_removed(d)]
        with self.timed(shard_of(batch[0])):
            found = self.escalator([d.text for d in todo])
            gate_on = self.escalator.gate_cfg is not None
            found_by = found.escalated_by()
            for i, doc in enumerate(todo):
                counts = found.terms.get(i, {})
                terms = sorted(counts)
                meta = doc.metadata
                meta[contract.MATCHED_TERMS] = terms
                meta[contract.TERM_COUNTS] = [counts[t] for t in terms]
                meta[contract.UNIQUE_TERMS] = int(found.unique[i])
                meta[contract.TOTAL_HITS] = int(found.total[i])
                g = found.gate[i]
                meta[contract.GATE_SCORE] = None if g != g else float(g)  # NaN: the gate did not run
                escalated_by = found_by[i]
                escalate = escalated_by != "none" and self.config.mode == "escalate"
                meta[contract.ESCALATED_BY] = escalated_by if escalate else None
                meta[contract.ESCALATED] = escalate
                verdict = contract.decide(self.rule, escalated_by)  # remove mode: the list decides here
                if verdict is not None:
                    contract.mark_removed(doc, *verdict)
        escalated = sum(1 for d in todo if d.metadata[contract.ESCALATED])
        self.stat_update("escalated", value=escalated)
        if gate_on:
            self.stat_update(
                "escalated_by_gate", value=sum(1 for d in todo if d.metadata[contract.ESCALATED_BY] == "gate")
            )
        self.stat_update("passed", value=len(todo) - escalated)

    def process(self, docs: DocumentsPipeline) -> DocumentsPipeline:
        """Match in batches (one automaton pass each), flushed at shard boundaries to keep per-shard timing."""
        batch: list[Document] = []
        chars = 0
        for doc in docs:
            if batch and shard_of(doc) != shard_of(batch[0]):
                self._annotate(batch)
                yield from batch
                batch, chars = [], 0
            batch.append(doc)
            chars += len(doc.text)
            if len(batch) >= _BATCH_DOCS or chars >= _BATCH_CHARS:
                self._annotate(batch)
                yield from batch
                batch, chars = [], 0
        if batch:
            self._annotate(batch)
            yield from batch
