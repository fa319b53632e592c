"""The deciding stage: score escalated documents with the embedding classifier, in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline

from filterkit import contract
from filterkit.classify.base import Classifier
from filterkit.classify.registry import load_classifier, read_classifier_info
from filterkit.config import ClassifierConfig, PipelineConfig, SemanticGateConfig
from filterkit.errors import FilterkitError
from filterkit.stages.base import DecisionStage, shard_of

# a buffer of non-escalated documents waiting for the next batch is flushed past these, so memory stays
# bounded when few documents escalate
_MAX_BUFFER_DOCS = 16_384
_MAX_BUFFER_CHARS = 64 << 20


class ClassifierStage(DecisionStage):
    """Scores documents the blocklist escalated (every document when no blocklist ran before it).

    Documents are buffered in input order until ``batch_docs`` need scoring, scored in one call (windows
    length-sorted and packed by tokens inside the encoder), and yielded in their original order. The
    buffer is also flushed at every input-shard boundary, so batches — and hence scores — depend only on
    the shard's own content, and a resumed run reproduces an uninterrupted one.
    """

    name = "classifier"

    def __init__(
        self,
        classifier: ClassifierConfig | dict,
        semantic_gate: SemanticGateConfig | dict | None = None,
        *,
        drop_removed: bool = True,
        exclusion_writer=None,
    ) -> None:
        """``classifier`` is the pipeline config's section, whole (a dict is validated as one): how to score
        (:attr:`ClassifierConfig.spec`) and how to decide. ``semantic_gate``: the gate section of the same config,
        so ``gate_only_threshold`` applies only where a gate ran."""
        super().__init__(drop_removed, exclusion_writer)
        self.config = ClassifierConfig.model_validate(classifier)
        gate = SemanticGateConfig.model_validate(semantic_gate) if semantic_gate is not None else None
        self.path = Path(self.config.path)
        self.info = read_classifier_info(self.path)  # fail early, before any worker starts
        self.spec = self.config.spec
        if self.spec.export_spans and self.info.backend != "embedding":
            raise FilterkitError(
                f"{self.path}: classifier.export_spans needs the embedding backend (this one is "
                f"{self.info.backend!r}); turn export_spans off"
            )
        self.rule = contract.Rule.from_config(
            head_threshold=self.info.threshold, classifier=self.config, semantic_gate=gate
        )
        self._model: Classifier | None = None  # loaded once per worker, on first use

    @classmethod
    def from_config(cls, cfg: PipelineConfig, drop_removed: bool = True, exclusion_writer=None) -> ClassifierStage:
        """The stage a pipeline config describes: ``filterkit run``, ``--dry-run`` and quality_bench build it so,
        and so score alike."""
        return cls(cfg.classifier, cfg.semantic_gate, drop_removed=drop_removed, exclusion_writer=exclusion_writer)

    @property
    def threshold(self) -> float:
        """The threshold this stage decides at (``classifier.threshold``, else the head's own)."""
        assert self.rule.threshold is not None  # a rule built from an enabled classifier section always has one
        return self.rule.threshold

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    @property
    def model(self):
        if self._model is None:  # loaded once per worker, on first use
            self._model = load_classifier(self.path, self.spec)
        return self._model

    @property
    def scoring_path(self) -> str | None:
        """device/runtime/precision the loaded model scores on; None before anything was scored."""
        from filterkit.classify.scoring_path import model_scoring_path

        return model_scoring_path(self._model) if self._model is not None else None

    def _record_spans(self, doc: Document, window_scores: tuple[float, ...], threshold: float) -> None:
        """The windows of a removed document that reached its threshold, as character spans of its text."""
        spans = self.model.window_spans(doc.text)
        hits = [(s, e, p) for (s, e), p in zip(spans, window_scores) if p >= threshold]
        doc.metadata[contract.SPAN_STARTS] = [s for s, _, _ in hits]
        doc.metadata[contract.SPAN_ENDS] = [e for _, e, _ in hits]
        doc.metadata[contract.SPAN_SCORES] = [float(p) for _, _, p in hits]

    @staticmethod
    def needs_score(doc: Document) -> bool:
        # None: no cheap stage ran before this one, so every document is scored
        return not contract.is_removed(doc) and doc.metadata.get(contract.ESCALATED) is not False

    def _submit(self, buffer: list[Document]) -> tuple[list[Document], list[Document], Any]:
        """Start scoring a buffer's escalated documents (tokenise, queue the encoder work)."""
        todo = [d for d in buffer if self.needs_score(d)]
        if not todo:
            return buffer, todo, None
        model = self.model  # loading is set-up, not scoring time
        with self.timed(shard_of(todo[0])):
            return buffer, todo, model.submit([d.text for d in todo])

    def _finish(self, submitted: tuple[list[Document], list[Document], Any]) -> list[Document]:
        """Wait for a submitted buffer's scores and decide its documents; returns the buffer, in order."""
        buffer, todo, pending = submitted
        if not todo:
            return buffer
        with self.timed(shard_of(todo[0])):
            results = self.model.collect(pending)
        for doc, res in zip(todo, results):
            meta = doc.metadata
            escalated_by = contract.recorded_escalated_by(meta)
            meta[contract.ESCALATED] = True
            meta[contract.WINDOWS] = res.windows
            if res.error is not None:
                meta[contract.ERROR] = res.error
                self.stat_update("errors")
            else:
                meta[contract.SCORE] = res.score
                self.stat_update("scored")
            verdict = contract.decide(self.rule, escalated_by, res.score, res.error)
            if verdict is not None:
                contract.mark_removed(doc, *verdict)
                if verdict[1] is contract.Reason.CLASSIFIER_SCORE and res.window_scores is not None:
                    bar = self.rule.threshold_for(escalated_by)
                    assert bar is not None  # it removed on a score, so the rule has a threshold
                    self._record_spans(doc, res.window_scores, bar)
        return buffer

    def process(self, docs: DocumentsPipeline) -> DocumentsPipeline:
        """Buffers, scores and yields in input order, one batch ahead.

        A full buffer is submitted (tokenised, encoder work queued) *before* the previous one is collected,
        so on a GPU the device works on batch N+1 while the host waits for N's results, writes N, and reads
        and matches the documents of N+2. Batches are the same as without the overlap (flushed at the same
        sizes and shard boundaries), so the scores are too; at most two buffers are held. Nothing is held
        across a shard boundary, so a finished shard is written (and survives a later failure) as before.
        """
        in_flight = None
        buffer: list[Document] = []
        pending = chars = 0
        current = None

        def flush(buf: list[Document]):
            nonlocal in_flight
            submitted = self._submit(buf)
            previous, in_flight = in_flight, submitted
            return self._finish(previous) if previous is not None else []

        for doc in docs:
            contract.ensure_keys(doc)
            shard = shard_of(doc)
            if buffer and shard != current:  # finish the shard before reading on: its outputs can be committed
                yield from flush(buffer)
                if in_flight is not None:  # flush() just submitted the buffer
                    yield from self._finish(in_flight)
                in_flight = None
                buffer, pending, chars = [], 0, 0
            current = shard
            buffer.append(doc)
            chars += len(doc.text)
            if self.needs_score(doc):
                pending += 1
            if pending >= self.config.batch_docs or len(buffer) >= _MAX_BUFFER_DOCS or chars >= _MAX_BUFFER_CHARS:
                yield from flush(buffer)
                buffer, pending, chars = [], 0, 0
        if buffer:
            yield from flush(buffer)
        if in_flight is not None:
            yield from self._finish(in_flight)
