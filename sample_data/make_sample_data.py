#!/usr/bin/env python3
"""Build filterkit's benign sample data deterministically.

How the text was authored
-------------------------
Every sentence in ``banks/*.json`` (beside this script) was written by the
filterkit team, in our own words, at encyclopedia / textbook-introduction
level.  The text is benign: history, classification, structure, general
mechanisms, epidemiology and public-health context only.  It contains no
protocols, no step-by-step methods, no quantities or growth conditions, and
nothing about making any agent more harmful.

The text is organised into *sentence banks*, one per topic, kept as data in
``banks/<group>.json`` (one file per group; ``load_banks`` checks them).  Each
bank has a group, a handful of titles and about 22 standalone sentences.  A
document is one title line followed by 5-16 sentences drawn from ONE bank,
kept in the bank's order (hard-negative documents sometimes get one extra
sentence from a general-topic bank).  Each bank's sentence list (and title
list) is split into two disjoint halves: labelled *train* documents use only
the first half and labelled *test* documents only the second half, so every
test sentence is unseen in training.  The demo shards are fresh draws from
both halves with their own seeds.  Every document is between 80 and 400
words (asserted).

Groups (label in brackets):
  target         [1] microbiology, virology, pathogens, infectious-disease
                     mechanisms, genetic manipulation of microbes
  hard_positive  [1] proxy-topic text that uses few obvious keywords
  general        [0] everyday encyclopedia topics
  biomed_negative[0] general biology and general medicine (collateral-damage
                     risk if removed)
  lexical_trap   [0] off-topic text that shares vocabulary with the target
                     (cell phones, computer viruses, vectors, hosts, ...)

Outputs (relative to this file's directory, or to the folder given as the
first argument):
  labelled/train.parquet, labelled/test.parquet
  shards/demo-0000.parquet ... demo-0003.parquet
  README.md  (regenerated, including the count tables)

Run:  .venv/bin/python sample_data/make_sample_data.py [OUT_DIR]
Only the standard library and pyarrow are used; no global random state is
touched (every draw goes through a seeded ``random.Random`` instance), and the
parquet files carry no timestamps, so two runs give byte-identical files.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240611
MIN_WORDS = 80
MAX_WORDS = 400
MIN_SENTENCES = 5
MAX_SENTENCES = 16
MIX_IN_PROB = 0.15  # hard negatives: chance of swapping in one general sentence

GROUP_LABEL = {
    "target": 1,
    "hard_positive": 1,
    "general": 0,
    "biomed_negative": 0,
    "lexical_trap": 0,
}
GROUP_ORDER = ["target", "hard_positive", "general", "biomed_negative", "lexical_trap"]

# Labelled documents per split and group.
LABELLED_PLAN = {
    "train": {"target": 66, "hard_positive": 24, "general": 70, "biomed_negative": 40, "lexical_trap": 40},
    "test": {"target": 33, "hard_positive": 12, "general": 35, "biomed_negative": 20, "lexical_trap": 20},
}
# Demo shards: documents per group in each shard (~10% label 1).
N_SHARDS = 4
SHARD_PLAN = {"target": 104, "hard_positive": 26, "general": 910, "biomed_negative": 130, "lexical_trap": 130}

BANKS_DIR = Path(__file__).resolve().parent / "banks"


class BankError(ValueError):
    """A sentence-bank file the generator cannot use; the message names the file and the fix."""


def _no_duplicate_keys(path: Path):
    """json's default keeps the last of two equal keys, which would drop a bank silently."""

    def hook(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _ in pairs]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        if dups:
            raise BankError(f"{path}: key {dups[0]!r} appears twice; rename or merge one of them")
        return dict(pairs)

    return hook


def _strings(path: Path, where: str, value: object, minimum: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise BankError(f"{path}: {where} must be a list of strings")
    if len(value) < minimum:
        raise BankError(f"{path}: {where} has {len(value)} entries; write at least {minimum}")
    for s in value:
        if not s or s != s.strip() or "\n" in s:
            raise BankError(f"{path}: {where} entry {s!r} must be one non-empty line without surrounding spaces")
    if len(set(value)) != len(value):
        dup = next(s for s in value if value.count(s) > 1)
        raise BankError(f"{path}: {where} repeats {dup!r}; remove one copy")
    return list(value)


def load_banks(folder: Path = BANKS_DIR) -> dict[str, dict]:
    """Read ``<folder>/<group>.json`` for every group, in GROUP_ORDER.

    The generated files depend on each list's order (the train/test halves and
    every seeded draw index into it), so entries are used exactly as written.
    """
    stray = sorted(p.name for p in folder.glob("*.json") if p.stem not in GROUP_LABEL)
    if stray:
        raise BankError(
            f"{folder / stray[0]}: not a group ({', '.join(GROUP_ORDER)}); "
            "rename it or move its banks into a group file"
        )
    banks: dict[str, dict] = {}
    for group in GROUP_ORDER:
        path = folder / f"{group}.json"
        if not path.is_file():
            raise BankError(f"{path}: missing; every group needs a bank file")
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys(path))
        if not isinstance(data, dict) or not isinstance(data.get("banks"), dict) or set(data) - {"note", "banks"}:
            raise BankError(f'{path}: expected an object with "banks" (and an optional "note")')
        for name, bank in data["banks"].items():
            if name in banks:
                raise BankError(
                    f"{path}: bank {name!r} is already defined in {banks[name]['group']}.json; rename one of them"
                )
            if not isinstance(bank, dict) or set(bank) != {"titles", "sentences"}:
                raise BankError(f'{path}: bank {name!r} must have exactly "titles" and "sentences"')
            banks[name] = {
                "group": group,
                "titles": _strings(path, f"{name}.titles", bank["titles"], 2),
                "sentences": _strings(path, f"{name}.sentences", bank["sentences"], 20),
            }
    return banks


BANKS = load_banks()


# ---------------------------------------------------------------------------
# Document assembly
# ---------------------------------------------------------------------------
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("label", pa.int8()),
        ("group", pa.string()),
        ("topic", pa.string()),
    ]
)

GENERAL_BANKS = sorted(n for n, b in BANKS.items() if b["group"] == "general")
MIXABLE_GROUPS = ("biomed_negative", "lexical_trap")


def _halves(items: list[str]) -> tuple[list[str], list[str]]:
    h = len(items) // 2
    return items[:h], items[h:]


def pools(bank: str, part: str) -> tuple[list[str], list[str]]:
    """(titles, sentences) of ``bank`` for part 'train', 'test' or 'all'."""
    b = BANKS[bank]
    if part == "all":
        return b["titles"], b["sentences"]
    t_tr, t_te = _halves(b["titles"])
    s_tr, s_te = _halves(b["sentences"])
    return (t_tr, s_tr) if part == "train" else (t_te, s_te)


def word_count(text: str) -> int:
    return len(text.split())


def make_doc(rng: random.Random, bank: str, part: str) -> str:
    """One document: a title line plus 5-16 sentences from one bank."""
    titles, sents = pools(bank, part)
    group = BANKS[bank]["group"]
    for _ in range(1000):
        mix = group in MIXABLE_GROUPS and rng.random() < MIX_IN_PROB
        k_max = min(MAX_SENTENCES - (1 if mix else 0), len(sents))
        k = rng.randint(MIN_SENTENCES, k_max)
        # keep the bank's sentence order so the prose reads naturally
        chosen = [sents[i] for i in sorted(rng.sample(range(len(sents)), k))]
        if mix:
            _, other = pools(rng.choice(GENERAL_BANKS), part)
            chosen.insert(rng.randint(1, len(chosen)), rng.choice(other))
        title = rng.choice(titles)
        if len(chosen) >= 9:
            cut = len(chosen) // 2 + rng.randint(-1, 1)
            body = " ".join(chosen[:cut]) + "\n\n" + " ".join(chosen[cut:])
        else:
            body = " ".join(chosen)
        text = f"{title}\n\n{body}"
        if MIN_WORDS <= word_count(text) <= MAX_WORDS:
            return text
    raise RuntimeError(f"could not draw a document of valid length from {bank}/{part}")


def draw_rows(rng: random.Random, plan: dict[str, int], part: str, seen: set[str]) -> list[dict]:
    rows = []
    for group in GROUP_ORDER:
        banks = sorted(n for n, b in BANKS.items() if b["group"] == group)
        rng.shuffle(banks)
        for i in range(plan[group]):
            bank = banks[i % len(banks)]
            for _ in range(100):
                text = make_doc(rng, bank, part)
                if text not in seen:
                    break
            else:
                raise RuntimeError(f"could not draw a fresh document from {bank}")
            seen.add(text)
            rows.append({"text": text, "label": GROUP_LABEL[group], "group": group, "topic": bank})
    rng.shuffle(rows)
    return rows


def write_parquet(rows: list[dict], path: Path) -> None:
    for r in rows:
        n = word_count(r["text"])
        assert MIN_WORDS <= n <= MAX_WORDS, (r["id"], n)
        assert r["label"] == GROUP_LABEL[r["group"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd")


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
def balance_table(named_rows: list[tuple[str, list[dict]]]) -> str:
    head = "| file | " + " | ".join(GROUP_ORDER) + " | label 0 | label 1 | total | % label 1 |"
    sep = "|" + "---|" * (len(GROUP_ORDER) + 5)
    lines = [head, sep]
    for name, rows in named_rows:
        g = Counter(r["group"] for r in rows)
        l1 = sum(r["label"] for r in rows)
        lines.append(
            f"| {name} | "
            + " | ".join(str(g[x]) for x in GROUP_ORDER)
            + f" | {len(rows) - l1} | {l1} | {len(rows)} | {100 * l1 / len(rows):.1f} |"
        )
    return "\n".join(lines)


def length_table(named_rows: list[tuple[str, list[dict]]], sizes: dict[str, int]) -> str:
    lines = ["| file | docs | min words | max words | mean words | bytes |", "|---|---|---|---|---|---|"]
    for name, rows in named_rows:
        wc = [word_count(r["text"]) for r in rows]
        lines.append(f"| {name} | {len(rows)} | {min(wc)} | {max(wc)} | {sum(wc) / len(wc):.0f} | {sizes[name]:,} |")
    return "\n".join(lines)


def bank_table() -> str:
    lines = [
        "| group | label | bank (`topic`) | sentences | train half | test half | titles |",
        "|---|---|---|---|---|---|---|",
    ]
    for group in GROUP_ORDER:
        for name in sorted(n for n, b in BANKS.items() if b["group"] == group):
            b = BANKS[name]
            tr, te = _halves(b["sentences"])
            lines.append(
                f"| {group} | {GROUP_LABEL[group]} | `{name}` | {len(b['sentences'])} | "
                f"{len(tr)} | {len(te)} | {len(b['titles'])} |"
            )
    return "\n".join(lines)


README_TEMPLATE = """\
# filterkit sample data

Every file in this directory except the script, its sentence banks (`banks/*.json`)
and the committed experiment results (`experiment-*/`) is produced by
`make_sample_data.py`, including this README: its tables are filled in by the
same run that writes the parquet files, so the numbers always match them.

```
.venv/bin/python sample_data/make_sample_data.py
```

The script uses only the Python standard library and `pyarrow`.  It uses a
fixed seed (`SEED = {seed}`) and only local `random.Random` instances (no global
random state), and writes parquet with `pyarrow.parquet.write_table(...,
compression="zstd")`, which stores no timestamps: running it twice produces
byte-identical files.

## Where the text comes from

**All text was written by the filterkit team.**  Nothing is scraped or copied
from other sources.  The writing is benign and at encyclopedia /
textbook-introduction level: history, classification, structure, general
mechanisms, epidemiology and public-health context.  It contains **no
operational content**: no protocols or step-by-step methods, no quantities or
growth conditions, no enhancement or synthesis information, nothing about
making any agent more harmful.

The text is organised into **sentence banks**, one per topic (the `topic`
column).  Each bank holds about 22 standalone, factual sentences plus four
titles, all kept in `banks/*.json` beside the script.  A document is one title
line followed by 5-16 sentences drawn from a single bank, kept in the bank's
order so the prose reads naturally (documents of 9+ sentences are split into
two paragraphs).  Every sentence is written to stand on its own.
Hard-negative documents (`biomed_negative`, `lexical_trap`) have a {mix_pct}%
chance of getting one extra sentence, inserted at a random position, from a
random `general` bank (for labelled files, from the same train/test half);
their label and
group are unchanged.  This keeps them from being perfectly topic-pure.  Every
document is {min_words}-{max_words} words long (counted by whitespace
splitting, title included); the script asserts this.

**Disjoint train/test halves.**  Each bank's sentence list and title list is
split in two: labelled *train* documents draw only from the first half and
labelled *test* documents only from the second half.  No test sentence (or
title) ever appears in a training document, so a classifier cannot score well
on `test` by memorising sentences.  Within a split, sentences do repeat across
documents of the same bank.

The demo shards draw from **both** halves, so they share sentences with
`labelled/test.parquet`.  Do not train a classifier on the shards and then
evaluate it on `labelled/test`; train on `labelled/train` only.

## Files

| path | how it is made |
|---|---|
| `labelled/train.parquet` | {n_train} documents drawn from the first half of every bank, `random.Random(SEED)` |
| `labelled/test.parquet` | {n_test} documents drawn from the second half of every bank, `random.Random(SEED + 1)` |
| `shards/demo-NNNN.parquet` | {n_shards} shards of {shard_size} documents; shard *i* uses `random.Random(SEED + 1000 * (i + 1))` and draws fresh documents from the whole bank (both halves) |
| `README.md` | this file, regenerated by the script |

Documents are unique within and across all files (a shard never contains a
text that is also in `labelled/`).  Rows are shuffled so that groups are
interleaved.  The demo shards are meant to look like a small slice of a
pretraining corpus: general text dominates and roughly one document in ten
is on the proxy topic.  Their labels are included so that end-to-end filtering
runs can be scored; a real corpus would have only `id` and `text`.

The curated blocklist used by the first filtering stage is not generated here;
it is hand-written and lives in `classifiers/blocklist/biorisk-proxy.txt`.

### Columns (all files)

| column | type | meaning |
|---|---|---|
| `id` | string | `train-00042`, `test-00007`, `demo-0002-00913` |
| `text` | string | title line, blank line, then one or two paragraphs |
| `label` | int8 | 1 = proxy topic (remove), 0 = keep |
| `group` | string | one of the five groups below |
| `topic` | string | name of the sentence bank the document came from |

### Groups

| group | label | meaning |
|---|---|---|
| `target` | 1 | proxy topic: microbiology, virology, pathogens and infectious-disease mechanisms, microbial genetics and genetic engineering of microbes, at textbook level |
| `hard_positive` | 1 | proxy-topic text that uses few obvious keywords (a particle's "outer coat", "small circular DNA molecules", the history of research institutes, narrative histories of epidemics) |
| `general` | 0 | everyday encyclopedia topics (sport, finance, cooking, astronomy, history, software, music, law, travel, ...) |
| `biomed_negative` | 0 | general biology and general medicine (botany, zoology, ecology, anatomy, plant/animal genetics, nutrition, nursing, cardiology, dentistry, physiotherapy, orthopaedics, mental health); removing these would be collateral damage |
| `lexical_trap` | 0 | off-topic text sharing the target's vocabulary: cell phones, computer viruses, vectors in mathematics, culture in the arts, network and TV hosts, vaccine *policy* news written as politics/economics, "going viral", bugs "infecting" spreadsheets, a punk band called the Germs |

## Class balance

{balance}

## Document lengths and file sizes

{lengths}

## Sentence banks

{banks}

## experiment-cpu/

The output of `filterkit experiment --config pipelines/experiment-cpu.yaml` (3 seeds, 2 CPU cores): `results.json`,
`report.md`, `config.json` and the three plots. The corpus, models and tokenizer are left out; the command
regenerates them deterministically. `earlier-runs/` keeps the results of three earlier settings, which the README
discusses: a fastText filter head; lr 0.003 with 90 general entities; and the same with an 11% proxy share.
`leak-3-seeds.json` holds the leak curve of the same run over 3 seeds (what `leak_seeds: 3` computes).
"""


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    seen: set[str] = set()

    splits = {}
    for i, split in enumerate(("train", "test")):
        rows = draw_rows(random.Random(SEED + i), LABELLED_PLAN[split], split, seen)
        for j, r in enumerate(rows):
            r["id"] = f"{split}-{j:05d}"
        splits[split] = rows

    shards = {}
    for s in range(N_SHARDS):
        rows = draw_rows(random.Random(SEED + 1000 * (s + 1)), SHARD_PLAN, "all", seen)
        for j, r in enumerate(rows):
            r["id"] = f"demo-{s:04d}-{j:05d}"
        shards[f"demo-{s:04d}"] = rows

    named = []
    sizes = {}
    for split, rows in splits.items():
        p = out / "labelled" / f"{split}.parquet"
        write_parquet(rows, p)
        named.append((f"labelled/{split}.parquet", rows))
        sizes[named[-1][0]] = p.stat().st_size
    for name, rows in shards.items():
        p = out / "shards" / f"{name}.parquet"
        write_parquet(rows, p)
        named.append((f"shards/{name}.parquet", rows))
        sizes[named[-1][0]] = p.stat().st_size
    all_shards = [r for rows in shards.values() for r in rows]
    balance_rows = named + [("shards/ (all)", all_shards)]
    sizes["shards/ (all)"] = sum(v for k, v in sizes.items() if k.startswith("shards/"))

    readme = README_TEMPLATE.format(
        seed=SEED,
        mix_pct=round(100 * MIX_IN_PROB),
        min_words=MIN_WORDS,
        max_words=MAX_WORDS,
        n_train=len(splits["train"]),
        n_test=len(splits["test"]),
        n_shards=N_SHARDS,
        shard_size=sum(SHARD_PLAN.values()),
        balance=balance_table(balance_rows),
        lengths=length_table(balance_rows, sizes),
        banks=bank_table(),
    )
    (out / "README.md").write_text(readme, encoding="utf-8")

    print(balance_table(balance_rows))
    print()
    print(length_table(balance_rows, sizes))
    print(f"\n{len(BANKS)} banks; wrote to {out} in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
