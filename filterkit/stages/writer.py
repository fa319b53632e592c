"""The last step: route each document by its recorded decision and finish shards atomically.

Removed documents become audit rows, escalated ones score rows; kept rows are copied from the input file
itself (all columns, the input's exact schema, input order) using a keep-mask, so nothing a stage did to a
document object can leak into ``kept/``. A shard is finished only when read = kept + removed has been
checked: its three files are fsynced and renamed into place, then its done marker is written last. What one shard
holds and how it is committed is :class:`~filterkit.stages.shard_output.ShardOutput` (shared with ``rethreshold``);
this step only routes the stream to it, shard by shard.
"""

from __future__ import annotations

import shutil
import time

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from filterkit import contract
from filterkit.config import InputConfig
from filterkit.data.shard import Shard
from filterkit.errors import FilterkitError
from filterkit.io import write_json_atomic
from filterkit.stages.base import DecisionStage
from filterkit.stages.reader import shards_for_rank
from filterkit.stages.shard_output import ShardOutput
from filterkit.store.layout import RunLayout
from filterkit.store.rows import RunInfo


class ShardWriter(PipelineStep):
    """Writes ``kept/``, ``audit/`` and ``scores/`` per input shard, then that shard's done marker.

    It finishes a shard as soon as all its rows have arrived (or, failing that, when the next shard's
    first document arrives), and at the end of the stream it finishes every shard of this task not yet done — an empty shard gives empty outputs, and a shard
    whose documents never arrived fails the conservation check instead of vanishing.
    """

    type = "💾 filterkit"
    name = "shard writer"

    def __init__(
        self,
        shards: list[Shard],
        layout: RunLayout,
        info: RunInfo,
        input_cfg: InputConfig,
        timed_stages: list[DecisionStage] | None = None,
    ) -> None:
        super().__init__()
        self.shards = shards
        self.layout = layout
        self.info = info
        self.input_cfg = input_cfg
        self.timed_stages = list(timed_stages or [])

    _last_report = 0.0

    def _report(self, rank: int, out: ShardOutput) -> None:
        """Every ~0.5 s, this task's counts so far in its unfinished shard, for a progress bar that moves
        inside a large shard. Best effort: a failed write never fails the run; outputs do not depend on it."""
        if out.n_seen % 256:
            return
        now = time.monotonic()
        if now - self._last_report < 0.5:
            return
        self._last_report = now
        try:
            write_json_atomic(
                self.layout.progress_file(rank),
                {
                    "shard": out.shard.out_name,
                    "rows": out.n_seen,
                    "chars": out.chars,
                    "escalated": out.escalated,
                    "removed": int(out.removed.sum()),
                },
            )
        except OSError:
            pass

    def _finish(self, out: ShardOutput) -> None:
        seconds = {s.name: s.pop_seconds(out.shard.name) for s in self.timed_stages}
        out.scoring = next((p for s in self.timed_stages if (p := getattr(s, "scoring_path", None))), None)
        stats = out.finish(self.layout, self.input_cfg, seconds)
        self.stat_update("shards")
        self.stat_update("kept", value=stats["kept"])
        self.stat_update("removed", value=stats["removed"])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from filterkit.proc import tie_task_process

        tie_task_process()  # a pool worker must not outlive a killed `filterkit run`
        mine = [s for s in shards_for_rank(self.shards, rank, world_size) if not self.layout.is_done(s.out_name)]
        by_name = {s.name: s for s in mine}
        tmp = self.layout.tmp_dir(rank)
        shutil.rmtree(tmp, ignore_errors=True)  # leftovers of a killed attempt
        finished: set[str] = set()
        current: ShardOutput | None = None
        try:
            for doc in data or ():
                name = doc.metadata.get(contract.SHARD)
                if current is None or name != current.shard.name:
                    if current is not None:
                        self._finish(current)
                        finished.add(current.shard.name)
                        current = None
                    if name not in by_name or name in finished:
                        raise FilterkitError(
                            f"document {doc.id!r} from shard {name!r} arrived out of order; "
                            "filterkit stages must keep shard order"
                        )
                    current = ShardOutput(by_name[name], tmp, self.info)
                current.add(doc)
                self._report(rank, current)
                if current.n_seen == current.shard.num_rows:  # every row is in: finish now, not on the next doc
                    self._finish(current)
                    finished.add(current.shard.name)
                    current = None
            if current is not None:
                self._finish(current)
                finished.add(current.shard.name)
                current = None
            for shard in mine:  # empty shards, or shards whose documents were all lost
                if shard.name not in finished:
                    current = ShardOutput(shard, tmp, self.info)
                    self._finish(current)
                    current = None
        except BaseException:
            if current is not None:
                current.abort()
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
        yield  # a generator, like every datatrove step
