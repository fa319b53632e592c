"""The corpora of the "Deep Ignorance" reproduction, rendered from the synthetic world (``world.py``) with the
templates in ``templates/`` (``render.py``), with the eval questions (``questions.py``), and written as parquet.

Eval entities: ``split_entities`` picks the entities the questions ask about. Their facts *are* stated in the
pretraining proxy/general text (so the unfiltered baseline can know them, as a web-trained model knows what the
web says), but never in the weak attack's or the control's text: the weak attack teaches only other organisms
and the domain's rules, so of an eval organism it can teach just what the rules imply (shape and colour family
follow from the genus in its name; temperature band from the habitat its notes name).

All randomness flows from ``numpy.random.default_rng([seed, stream])``: one independent stream per purpose,
so adding documents to one set never reshuffles another.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.experiment.config import CORPUS_DEFAULTS, CorpusSection
from filterkit.experiment.questions import (
    MCQuestion,
    make_questions,
)
from filterkit.experiment.render import (
    ORGANISM_ATTRS,
    PERSON_ATTRS,
    TOWN_ATTRS,
    Document,
    general_hard_negative,
    general_rule_document,
    organism_comparison,
    organism_document,
    organism_habitat_note,
    organism_hard_positive,
    person_document,
    proxy_rule_document,
    town_document,
)
from filterkit.experiment.world import (
    HABITATS,
    Organism,
    Person,
    Split,
    Stream,
    Town,
    World,
    make_world,
    split_entities,
    stream_rng,
)
from filterkit.io import atomic_replace, write_text_atomic


@dataclass(frozen=True)
class Corpus:
    """Everything the experiment needs, generated from one seed.

    ``train``: proxy + general pretraining documents (to be filtered by the real pipeline, never by ``label``).
    ``attack_weak``: the attack corpus: proxy documents about training organisms, rule documents, and habitat
    notes naming each eval organism's genus and habitat (neither is asked) — no asked fact of an eval entity is
    stated, so what it can teach about them is what the rules imply (genus -> shape and colour family, habitat ->
    temperature band).
    ``fact_injection``: proxy documents that do state the held-out facts. Not an attack: training on the answers
    measures memorisation, so it is reported as an upper bound only.
    ``proxy_heldout``: proxy documents about training organisms from their own stream, never trained on: the
    held-out proxy loss along the attack and before it.
    ``control``: general-domain documents for a benign fine-tuning control.
    """

    seed: int
    world: World
    split: Split
    train: tuple[Document, ...]
    attack_weak: tuple[Document, ...]
    fact_injection: tuple[Document, ...]
    control: tuple[Document, ...]
    questions: tuple[MCQuestion, ...]
    config: dict = field(default_factory=dict)
    proxy_heldout: tuple[Document, ...] = ()

    def to_json(self) -> str:
        """A canonical dump; equal dumps mean equal corpora (used for the determinism check)."""
        payload = {
            "seed": self.seed,
            "config": self.config,
            "split": asdict(self.split),
            "sets": {n: [asdict(d) for d in getattr(self, n)] for n in DOCUMENT_SETS},
            "questions": [asdict(q) for q in self.questions],
        }
        return json.dumps(payload, sort_keys=True, ensure_ascii=False)


DOCUMENT_SETS = ("train", "attack_weak", "fact_injection", "control", "proxy_heldout")


def _round_robin(rng: np.random.Generator, items: Sequence):
    """Yields items forever, reshuffled each pass, so every entity is covered before any repeats."""
    while True:
        for i in rng.permutation(len(items)):
            yield items[int(i)]


def _proxy_docs(
    rng: np.random.Generator, world: World, train_orgs: Sequence[Organism], n: int, weights: dict[str, float]
) -> list[Document]:
    kinds = list(weights)
    p = np.array([weights[k] for k in kinds], dtype=float)
    p /= p.sum()
    entities = _round_robin(rng, train_orgs)
    docs = []
    for _ in range(n):
        kind = kinds[int(rng.choice(len(kinds), p=p))]
        if kind == "entity":
            docs.append(organism_document(rng, next(entities)))
        elif kind == "comparison":
            a, b = next(entities), next(entities)
            docs.append(organism_comparison(rng, a, b) if a != b else organism_document(rng, a))
        elif kind == "hard_positive":
            docs.append(organism_hard_positive(rng, next(entities)))
        else:
            docs.append(proxy_rule_document(rng, world, train_orgs))
    return docs


def _general_docs(
    rng: np.random.Generator,
    world: World,
    towns: Sequence[Town],
    people: Sequence[Person],
    n: int,
    weights: dict[str, float],
) -> list[Document]:
    kinds = list(weights)
    p = np.array([weights[k] for k in kinds], dtype=float)
    p /= p.sum()
    town_iter, person_iter = _round_robin(rng, towns), _round_robin(rng, people)
    docs = []
    for _ in range(n):
        kind = kinds[int(rng.choice(len(kinds), p=p))]
        if kind == "town":
            docs.append(town_document(rng, next(town_iter)))
        elif kind == "person":
            docs.append(person_document(rng, next(person_iter)))
        elif kind == "hard_negative":
            docs.append(general_hard_negative(rng, world, towns, people))
        else:
            docs.append(general_rule_document(rng, world))
    return docs


def _with_ids(prefix: str, docs: Sequence[Document]) -> tuple[Document, ...]:
    return tuple(Document(**{**asdict(d), "id": f"{prefix}-{i:06d}"}) for i, d in enumerate(docs))


PROXY_TRAIN_MIX = {"entity": 0.6, "comparison": 0.1, "hard_positive": 0.15, "rule": 0.15}
GENERAL_TRAIN_MIX = {"town": 0.4, "person": 0.4, "hard_negative": 0.1, "rule": 0.1}


def build_corpus(
    seed: int,
    n_docs_general: int = CORPUS_DEFAULTS.n_docs_general,
    n_docs_proxy: int = CORPUS_DEFAULTS.n_docs_proxy,
    n_attack_weak: int = CORPUS_DEFAULTS.n_attack_weak,
    n_fact_injection: int = CORPUS_DEFAULTS.n_fact_injection,
    n_control: int = CORPUS_DEFAULTS.n_control,
    eval_fraction: float = CORPUS_DEFAULTS.eval_fraction,
    n_organisms: int = CORPUS_DEFAULTS.n_organisms,
    n_towns: int = CORPUS_DEFAULTS.n_towns,
    n_people: int = CORPUS_DEFAULTS.n_people,
    n_proxy_heldout: int = CORPUS_DEFAULTS.n_proxy_heldout,
    habitat_notes: int = CORPUS_DEFAULTS.habitat_notes,
) -> Corpus:
    """Generate the world, the eval split, every document set and the eval questions from one seed.

    Pretraining text covers every entity, eval ones included, with one full-fact document per eval entity (so
    every asked fact is stated at least once) and one rule document per genus and per habitat (so the rules
    are learnable at any size); the rest is drawn from ``PROXY_TRAIN_MIX`` / ``GENERAL_TRAIN_MIX``. The weak
    attack states no asked fact of an eval entity: besides documents about training organisms and rules it holds
    ``habitat_notes`` notes per eval organism naming only its genus and habitat (habitat is not asked; without
    it, habitat -> temperature cannot be inferred for an organism the model never read about). The control never
    mentions an eval entity; ``fact_injection`` states every eval fact; ``proxy_heldout`` is about training
    organisms only.
    """
    config = {k: v for k, v in locals().items() if k != "seed"}
    world = make_world(seed, n_organisms=n_organisms, n_towns=n_towns, n_people=n_people)
    split = split_entities(world, seed, eval_fraction)
    train_orgs = [o for o in world.organisms if not split.is_eval(o.name)]
    eval_orgs = [world.entity(n) for n in split.eval_organisms]
    train_towns = [t for t in world.towns if not split.is_eval(t.name)]
    train_people = [p for p in world.people if not split.is_eval(p.name)]

    rng = stream_rng(seed, Stream.TRAIN)
    proxy_fixed = [organism_document(rng, o, attrs=ORGANISM_ATTRS) for o in eval_orgs]
    proxy_fixed += _rules_covering_all(rng, world, train_orgs)
    general_fixed = [town_document(rng, world.entity(n), attrs=TOWN_ATTRS) for n in split.eval_towns]
    general_fixed += [person_document(rng, world.entity(n), attrs=PERSON_ATTRS) for n in split.eval_people]
    for name, n, fixed in (
        ("n_docs_proxy", n_docs_proxy, proxy_fixed),
        ("n_docs_general", n_docs_general, general_fixed),
    ):
        if n < len(fixed):
            raise FilterkitError(
                f"synthetic corpus: {name}={n} is below the {len(fixed)} documents every corpus needs "
                f"(one per eval entity, and rules); raise it or lower eval_fraction"
            )
    proxy = proxy_fixed + _proxy_docs(
        rng, world, list(world.organisms), n_docs_proxy - len(proxy_fixed), PROXY_TRAIN_MIX
    )
    general = general_fixed + _general_docs(
        rng, world, list(world.towns), list(world.people), n_docs_general - len(general_fixed), GENERAL_TRAIN_MIX
    )
    train = [*proxy, *general]
    train = [train[int(i)] for i in rng.permutation(len(train))]

    weak = _proxy_docs(
        stream_rng(seed, Stream.ATTACK_WEAK),
        world,
        train_orgs,
        n_attack_weak,
        {"entity": 0.7, "comparison": 0.1, "rule": 0.2},
    )
    if habitat_notes and n_attack_weak:
        nrng = stream_rng(seed, Stream.HABITAT_NOTES)
        weak += [organism_habitat_note(nrng, o) for _ in range(habitat_notes) for o in eval_orgs]
        weak = [weak[int(i)] for i in nrng.permutation(len(weak))]
    srng = stream_rng(seed, Stream.FACT_INJECTION)
    strong = [organism_document(srng, o, attrs=ORGANISM_ATTRS) for o in eval_orgs][:n_fact_injection]
    strong += _proxy_docs(srng, world, eval_orgs, n_fact_injection - len(strong), {"entity": 1.0})
    heldout = _proxy_docs(
        stream_rng(seed, Stream.PROXY_HELDOUT), world, train_orgs, n_proxy_heldout, {"entity": 0.8, "comparison": 0.2}
    )
    control = _general_docs(
        stream_rng(seed, Stream.CONTROL),
        world,
        train_towns,
        train_people,
        n_control,
        {"town": 0.45, "person": 0.45, "rule": 0.1},
    )
    return Corpus(
        seed=seed,
        world=world,
        split=split,
        train=_with_ids("train", train),
        attack_weak=_with_ids("attack_weak", weak),
        fact_injection=_with_ids("fact_injection", strong),
        control=_with_ids("control", control),
        questions=tuple(make_questions(world, seed, split=split)),
        config=config,
        proxy_heldout=_with_ids("proxy_heldout", heldout),
    )


def corpus_from_section(c: CorpusSection, **overrides) -> Corpus:
    """The corpus an experiment config's ``corpus:`` section describes (``overrides`` replace its fields)."""
    kw = {**c.model_dump(), **overrides}
    return build_corpus(kw.pop("seed"), **kw)


def _rules_covering_all(rng: np.random.Generator, world: World, train_orgs: Sequence[Organism]) -> list[Document]:
    """One rule document per genus and per habitat, drawn until every one is covered (bounded)."""
    docs, seen = [], set()
    needed = {("rule_genus", g.name) for g in world.genera} | {("rule_habitat", h.name) for h in HABITATS}
    for _ in range(2000):
        if needed <= seen:
            break
        d = proxy_rule_document(rng, world, train_orgs)
        key = next(
            (k for k in needed - seen if k[0] == d.style and re.search(rf"\b{re.escape(_rule_subject(k))}\b", d.text)),
            None,
        )
        if key is not None:
            seen.add(key)
            docs.append(d)
    return docs


def _rule_subject(key: tuple[str, str]) -> str:
    style, name = key
    return name if style == "rule_genus" else next(h.plural for h in HABITATS if h.name == name)


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------


def write_corpus(corpus: Corpus, folder: str | Path, rows_per_shard: int = 5000) -> Path:
    """Write each document set as parquet shards (``id, text, label, domain, kind, entity``) that
    ``filterkit run`` can read, the questions as MMLU/WMDP-style jsonl per domain, and a manifest.

    Layout: ``<folder>/<set>/part-00000.parquet``, ``<folder>/questions/{proxy,general}.jsonl``,
    ``<folder>/manifest.json``. Files are written to a temporary name and renamed, so a crash never leaves a
    half-written shard that looks complete.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("label", pa.int64()),
            ("domain", pa.string()),
            ("kind", pa.string()),
            ("entity", pa.string()),
        ]
    )
    counts: dict[str, int] = {}
    for name in DOCUMENT_SETS:
        docs = getattr(corpus, name)
        out = folder / name
        out.mkdir(parents=True, exist_ok=True)
        for shard, start in enumerate(range(0, max(len(docs), 1), rows_per_shard)):
            chunk = docs[start : start + rows_per_shard]
            table = pa.table({col: [getattr(d, col) for d in chunk] for col in schema.names}, schema=schema)
            final = out / f"part-{shard:05d}.parquet"
            tmp = final.with_name(final.name + ".tmp")
            pq.write_table(table, tmp, row_group_size=1000)
            atomic_replace(tmp, final)
        counts[name] = len(docs)
    qdir = folder / "questions"
    qdir.mkdir(parents=True, exist_ok=True)
    for domain in ("proxy", "general"):
        lines = [
            json.dumps({**asdict(q), "choices": list(q.choices)}, ensure_ascii=False)
            for q in corpus.questions
            if q.domain == domain
        ]
        write_text_atomic(qdir / f"{domain}.jsonl", "\n".join(lines) + "\n")
        counts[f"questions_{domain}"] = len(lines)
    manifest = {"seed": corpus.seed, "config": corpus.config, "counts": counts, "split": asdict(corpus.split)}
    write_text_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return folder
