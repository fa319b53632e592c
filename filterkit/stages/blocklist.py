"""The cheap first stage: count blocklist terms, then escalate (or remove) documents at the bar."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from datatrove.data import Document, DocumentsPipeline

from filterkit import document as D
from filterkit.blocklist import Blocklist
from filterkit.stages.base import DecisionStage, shard_of


_BATCH_DOCS = 1024
_BATCH_CHARS = 4 << 20


class BlocklistStage(DecisionStage):
    """Counts unique terms and total hits per document.

    ``mode="escalate"`` (the Deep Ignorance design) marks documents with at least ``min_unique_hits``
    unique terms for the classifier and keeps the rest; ``mode="remove"`` removes them outright (the
    "strong filter" variant, no classifier).
    """

    name = "blocklist"

    def __init__(
        self,
        path: str | Path,
        min_unique_hits: int = 2,
        mode: Literal["escalate", "remove"] = "escalate",
        drop_removed: bool = True,
        exclusion_writer=None,
    ) -> None:
        super().__init__(drop_removed, exclusion_writer)
        self.path = Path(path)
        self.min_unique_hits = min_unique_hits
        self.mode = mode
        self._blocklist: Blocklist | None = None

    @property
    def blocklist(self) -> Blocklist:
        if self._blocklist is None:  # built in the worker, not pickled across processes
            self._blocklist = Blocklist.from_file(self.path)
        return self._blocklist

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_blocklist"] = None
        return state

    def _annotate(self, batch: list[Document]) -> None:
        todo = [d for d in batch if not D.is_removed(d)]
        with self.timed(shard_of(batch[0])):
            # terms are named only for documents at the bar: they alone reach the audit and scores tables
            found = self.blocklist.count_many([d.text for d in todo], detail_min_unique=self.min_unique_hits)
            for i, (doc, unique, total) in enumerate(zip(todo, found.unique.tolist(), found.total.tolist())):
                counts = found.terms.get(i, {})
                terms = sorted(counts)
                meta = doc.metadata
                meta[D.BL_TERMS] = terms
                meta[D.BL_COUNTS] = [counts[t] for t in terms]
                meta[D.BL_UNIQUE] = unique
                meta[D.BL_TOTAL] = total
                over = unique >= self.min_unique_hits
                meta[D.ESCALATED] = over and self.mode == "escalate"
                if over and self.mode == "remove":
                    D.mark_removed(doc, "blocklist", "blocklist_terms")
        escalated = sum(1 for d in todo if d.metadata[D.ESCALATED])
        self.stat_update("escalated", value=escalated)
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
