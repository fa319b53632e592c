"""DuckDB queries over a finished run's ``audit/`` and ``scores/`` tables (schemas: :mod:`filterkit.store.rows`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from filterkit.store.rows import AUDIT_SCHEMA, RENAMED_COLUMNS, SCORES_SCHEMA, SPANS_SCHEMA, old_names, written_schema


def connect_views(run: Path, command: str = "audit", spans: bool = False):
    """An in-memory DuckDB whose views ``audit`` and ``scores`` (and ``spans``) read the run's parquet files.

    No SQL text is built from paths or values: the files are opened as one Arrow dataset each (an explicit
    file list, so ``*``, ``[`` or quotes in a shard name mean nothing) and registered as objects. External
    access is then switched off and the setting locked, so a query (``--sql`` included) can read these two
    views but cannot read or write any other file.
    """
    import duckdb
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from filterkit.errors import FilterkitError
    from filterkit.runs.verify import require_intact

    run = Path(run)
    if not (run / "manifest.json").is_file() and not (run / "run.json").is_file():
        raise FilterkitError(f"{run}: not a filterkit run folder (no manifest.json); pass the --out of `filterkit run`")
    require_intact(run, command=command)  # outputs changed since their shard finished are refused
    finished = _finished_shards(run)
    con = duckdb.connect(config={"enable_external_access": False, "lock_configuration": True})
    views = (("audit", AUDIT_SCHEMA), ("scores", SCORES_SCHEMA)) + ((("spans", SPANS_SCHEMA),) if spans else ())
    for view, schema in views:
        folder = run / view
        files = sorted(str(p) for p in folder.rglob("*.parquet") if p.is_file()) if folder.is_dir() else []
        if finished is not None:  # an unfinished run: only shards with a done marker are complete
            files = [f for f in files if str(Path(f).relative_to(folder)) in finished]
        renamed = RENAMED_COLUMNS.get(view, {})
        try:
            # files written before a column was renamed (an older filterkit) are read under the current names
            old = [f for f in files if renamed and old_names(view, pq.read_schema(f).names)]
            dataset = ds.dataset([f for f in files if f not in old], schema=schema, format="parquet")
            old_dataset = ds.dataset(old, schema=written_schema(view, schema), format="parquet") if old else None
        except (pa.ArrowException, OSError) as e:
            raise FilterkitError(
                f"{folder}: a file there is not readable parquet ({type(e).__name__}: {str(e)[:120]}); "
                "re-run `filterkit run` on this folder to redo damaged shards"
            ) from None
        con.register(f"_{view}_files", dataset)  # an empty dataset still answers queries
        sql = f"SELECT * FROM _{view}_files"  # view and column names are constants, never data
        if old_dataset is not None:
            con.register(f"_{view}_old", old_dataset)
            renames = ", ".join(f"{o} AS {n}" for o, n in renamed.items())
            sql += f" UNION ALL SELECT * RENAME ({renames}) FROM _{view}_old"
        con.execute(f"CREATE VIEW {view} AS {sql}")
    return con


def _finished_shards(run: Path) -> set[str] | None:
    """None for a finished run; else the shards with a done marker, and a warning that says so."""
    if (run / "manifest.json").is_file():
        return None
    import logging

    done = run / ".state" / "done"
    names = {str(p.relative_to(done))[: -len(".json")] for p in done.rglob("*.json")} if done.is_dir() else set()
    logging.getLogger("filterkit").warning(
        f"{run}: the run has not finished (no manifest.json); this covers the {len(names)} shard(s) that finished "
        "— re-run `filterkit run` with the same arguments to finish it"
    )
    return names


def fetch_all(con, run: Path, sql: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one query with named parameters; a damaged file or a bad query becomes one line naming the run."""
    import duckdb

    from filterkit.errors import FilterkitError

    try:
        cur = con.execute(sql, params) if params is not None else con.execute(sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        return cols, cur.fetchall()
    except (duckdb.Error, pa.ArrowException, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FilterkitError(f"{run}: query failed: {first}; the views are `audit` and `scores`") from None


def query(run: str | Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run SQL against views ``audit`` and ``scores`` of a finished run; returns (columns, rows).

    The query can read only those two views: file access is off in the connection (see :func:`connect_views`).
    """
    return fetch_all(connect_views(Path(run)), Path(run), sql)


def summarize(run: str | Path, examples: int = 3, bins: int = 10) -> dict[str, Any]:
    """What a reviewer asks first about a run, each answer one DuckDB query over ``audit``/``scores``."""
    con = connect_views(Path(run))

    def rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        return fetch_all(con, Path(run), sql, params)[1]

    by_stage = rows("SELECT stage, reason, count(*) AS n FROM audit GROUP BY ALL ORDER BY n DESC, stage, reason")
    top_terms = rows(
        "SELECT t.term, count(*) AS docs, sum(t.count) AS hits FROM "
        "(SELECT unnest(matched_terms) AS t FROM audit) GROUP BY t.term ORDER BY docs DESC, t.term LIMIT 15"
    )
    hist = rows(
        "SELECT least(floor(score * $bins), $bins - 1) / $bins AS lo, count(*) AS n, "
        "sum(CASE WHEN removed THEN 1 ELSE 0 END) AS removed "
        "FROM scores WHERE score IS NOT NULL GROUP BY lo ORDER BY lo",
        {"bins": int(bins)},
    )
    per_shard = rows(
        "SELECT input_shard, s.escalated, coalesce(a.removed, 0) AS removed FROM "  # USING coalesces the key
        "(SELECT input_shard, count(*) AS escalated FROM scores GROUP BY input_shard) s "
        "FULL JOIN (SELECT input_shard, count(*) AS removed FROM audit GROUP BY input_shard) a "
        "USING (input_shard) ORDER BY input_shard"
    )
    ex = rows(
        "SELECT doc_id, stage, reason, score, "
        "left(regexp_replace(coalesce(text, ''), '\\s+', ' ', 'g'), 120) AS snippet "
        "FROM audit ORDER BY text_sha256 LIMIT $examples",
        {"examples": int(examples)},
    )
    read_by_shard: dict[str, int] = {}
    manifest = Path(run) / "manifest.json"
    if manifest.is_file():
        import json

        read_by_shard = {st["shard"]: st["rows_read"] for st in json.loads(manifest.read_text())["shards"]}
    shard_rows = {s: {"shard": s, "read": n, "escalated": 0, "removed": 0} for s, n in read_by_shard.items()}
    for s, e, r in per_shard:
        shard_rows.setdefault(s, {"shard": s, "read": None})
        shard_rows[s].update(escalated=e or 0, removed=int(r))
    return {
        "removed_by_stage": [{"stage": s, "reason": r, "n": n} for s, r, n in by_stage],
        "top_terms": [{"term": t, "docs": d, "hits": int(h)} for t, d, h in top_terms],
        "score_histogram": [{"from": float(lo), "n": n, "removed": int(r)} for lo, n, r in hist],
        "per_shard": [shard_rows[k] for k in sorted(shard_rows)],
        "examples": [{"doc_id": d, "stage": s, "reason": r, "score": sc, "snippet": sn} for d, s, r, sc, sn in ex],
    }
