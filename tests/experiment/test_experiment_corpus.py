"""The synthetic-world corpus: deterministic, rule-governed, leak-free for held-out facts, and benign."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow.parquet as pq
import pytest

from filterkit.experiment.corpus import DOCUMENT_SETS, Corpus, build_corpus, write_corpus
from filterkit.experiment.questions import make_questions
from filterkit.experiment.world import (
    FORBIDDEN_WORDS,
    HABITATS,
    ORGANISM_EVAL_ATTRIBUTES,
    PERSON_EVAL_ATTRIBUTES,
    PROFESSIONS,
    TOWN_EVAL_ATTRIBUTES,
    make_world,
    split_entities,
    states_fact,
)

SMALL = dict(
    n_docs_general=400,
    n_docs_proxy=200,
    n_attack_weak=80,
    n_fact_injection=80,
    n_control=60,
    n_organisms=60,
    n_towns=30,
    n_people=50,
    n_proxy_heldout=30,
    habitat_notes=2,
    eval_fraction=0.2,
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus(7, **SMALL)


def _eval_facts(c: Corpus):
    groups = (
        (c.split.eval_organisms, ORGANISM_EVAL_ATTRIBUTES),
        (c.split.eval_towns, TOWN_EVAL_ATTRIBUTES),
        (c.split.eval_people, PERSON_EVAL_ATTRIBUTES),
    )
    for names, attributes in groups:
        for name in names:
            for attribute in attributes:
                yield c.world.entity(name), attribute


def test_same_seed_same_corpus_other_seed_differs():
    a, b, other = build_corpus(3, **SMALL), build_corpus(3, **SMALL), build_corpus(4, **SMALL)
    assert a.to_json() == b.to_json()
    assert a.to_json() != other.to_json()
    assert [d.text for d in a.train] != [d.text for d in other.train]


def test_world_follows_its_rules():
    world = make_world(11, n_organisms=200, n_towns=50, n_people=80)
    for o in world.organisms:
        genus = next(g for g in world.genera if o.name.startswith(g.name + " "))
        assert o.genus == genus and o.colour.endswith(genus.colour_family)
        assert o.habitat.low_c <= o.temperature_c <= o.habitat.high_c
    for t in world.towns:
        assert t.name.endswith(t.region.suffix)
    tools = dict(PROFESSIONS)
    assert all(p.tool == tools[p.profession] for p in world.people)
    assert len({e.name for e in (*world.organisms, *world.towns, *world.people)}) == 330  # names are unique
    bands = sorted((h.low_c, h.high_c) for h in HABITATS)
    assert all(hi < lo2 for (_, hi), (lo2, _) in zip(bands, bands[1:]))  # disjoint: temperature is inferable


def test_split_keeps_training_members_of_every_genus_and_region(corpus: Corpus):
    s = corpus.split
    assert s.eval_organisms and s.eval_towns and s.eval_people
    for genus in corpus.world.genera:
        assert any(o.genus == genus and not s.is_eval(o.name) for o in corpus.world.organisms)
    for region in {t.region for t in corpus.world.towns}:
        assert any(t.region == region and not s.is_eval(t.name) for t in corpus.world.towns)
    assert split_entities(corpus.world, 7, 0.2) == s


def test_eval_facts_are_never_stated_in_the_weak_attack_or_control(corpus: Corpus):
    leaks = [
        (name, entity.name, attribute, d.text)
        for name in ("attack_weak", "control", "proxy_heldout")
        for d in getattr(corpus, name)
        for entity, attribute in _eval_facts(corpus)
        if states_fact(d.text, entity, attribute)
    ]
    assert leaks == []


def test_attack_names_each_eval_organism_with_its_habitat_only(corpus: Corpus):
    """Habitat -> temperature band is inferable only for an organism whose habitat the model has read: the attack's
    habitat notes give it (habitat is not asked); the held-out proxy text and the control never name one."""
    notes = [d for d in corpus.attack_weak if d.kind == "habitat_note"]
    assert len(notes) == 2 * len(corpus.split.eval_organisms)
    for name in corpus.split.eval_organisms:
        o = corpus.world.entity(name)
        mine = [d for d in notes if d.entity == name]
        assert mine and all(states_fact(d.text, o, "habitat") for d in mine)
        assert all(o.genus.name in d.text and not any(ch.isdigit() for ch in d.text) for d in mine)
    named = [d for d in (*corpus.proxy_heldout, *corpus.control) for n in corpus.split.eval_organisms if n in d.text]
    assert named == []
    # the notes come from their own random stream: the rest of the attack corpus is what it was without them
    plain = build_corpus(7, **{**SMALL, "habitat_notes": 0})
    assert sorted(d.text for d in corpus.attack_weak if d.kind != "habitat_note") == sorted(
        d.text for d in plain.attack_weak
    )
    assert [d.text for d in plain.train] == [d.text for d in corpus.train]


def test_fact_injection_states_every_held_out_proxy_fact(corpus: Corpus):
    for name in corpus.split.eval_organisms:
        entity = corpus.world.entity(name)
        for attribute in ORGANISM_EVAL_ATTRIBUTES:
            assert any(states_fact(d.text, entity, attribute) for d in corpus.fact_injection), (name, attribute)


def test_pretraining_states_every_eval_fact_and_every_rule(corpus: Corpus):
    """The baseline can know every asked fact (it is in its pretraining text); the weak attack can teach the rules."""
    proxy_train = [d for d in corpus.train if d.label == 1]
    general_train = [d for d in corpus.train if d.label == 0]
    for entity, attribute in _eval_facts(corpus):
        docs = proxy_train if isinstance(entity, type(corpus.world.organisms[0])) else general_train
        assert any(states_fact(d.text, entity, attribute) for d in docs), (entity.name, attribute)
    rules = " ".join(d.text for d in (*corpus.train, *corpus.attack_weak) if d.kind == "rule")
    for genus in corpus.world.genera:
        assert genus.name in rules and genus.shape.adjective in rules


def test_questions_are_cloze_stems_of_training_sentences(corpus: Corpus):
    """Each stem followed by its answer is a sentence the training text's templates produce."""
    proxy_text = " ".join(d.text for d in corpus.train if d.label == 1)
    general_text = " ".join(d.text for d in corpus.train if d.label == 0)
    found = 0
    for q in corpus.questions:
        sentence = f"{q.question} {q.choices[q.answer]}"
        found += sentence in (proxy_text if q.domain == "proxy" else general_text)
    assert found / len(corpus.questions) > 0.5  # one of 3-4 paraphrases each; most facts appear in this one too


def test_distractors_are_values_the_world_uses(corpus: Corpus):
    """Distractors are the same attribute of other entities, so a model cannot pick the answer by its rarity."""
    years = {str(o.year) for o in corpus.world.organisms}
    for q in corpus.questions:
        if q.attribute == "year":
            assert set(q.choices) <= years


def test_questions_are_well_formed(corpus: Corpus):
    qs = corpus.questions
    assert {q.domain for q in qs} == {"proxy", "general"}
    assert len(qs) == (
        len(corpus.split.eval_organisms) * len(ORGANISM_EVAL_ATTRIBUTES)
        + len(corpus.split.eval_towns) * len(TOWN_EVAL_ATTRIBUTES)
        + len(corpus.split.eval_people) * len(PERSON_EVAL_ATTRIBUTES)
    )
    for q in qs:
        assert len(q.choices) == 4 and len(set(q.choices)) == 4 and 0 <= q.answer < 4
        assert states_fact(f"{q.entity} {q.choices[q.answer]}", corpus.world.entity(q.entity), q.attribute)
    assert Counter(q.answer for q in qs).keys() == {0, 1, 2, 3}  # shuffled, not always first
    assert {q.inferable for q in qs} == {True, False}
    assert make_questions(corpus.world, 7, split=corpus.split) == list(qs)


def test_both_domains_and_hard_cases_are_present(corpus: Corpus):
    kinds = Counter((d.domain, d.kind, d.label) for d in corpus.train)
    for key in [
        ("proxy", "entity", 1),
        ("proxy", "rule", 1),
        ("proxy", "hard_positive", 1),
        ("general", "entity", 0),
        ("general", "rule", 0),
        ("general", "hard_negative", 0),
    ]:
        assert kinds[key] > 0, key
    assert sum(d.domain == "proxy" for d in corpus.train) == SMALL["n_docs_proxy"]
    assert sum(d.domain == "general" for d in corpus.train) == SMALL["n_docs_general"]
    hard_pos = [d.text.lower() for d in corpus.train if d.kind == "hard_positive"]
    assert not any(w in t for t in hard_pos for w in ("microorganism", "microbe", "colony", "colonies"))
    assert any("yeast" in d.text for d in corpus.train if d.kind == "hard_negative")
    assert all(d.domain == "general" for d in corpus.control)
    assert all(d.domain == "proxy" for d in (*corpus.attack_weak, *corpus.fact_injection, *corpus.proxy_heldout))
    ids = [d.id for name in DOCUMENT_SETS for d in getattr(corpus, name)]
    assert len(ids) == len(set(ids))


def test_content_rule_no_harm_related_words_anywhere(corpus: Corpus):
    texts = [d.text for name in DOCUMENT_SETS for d in getattr(corpus, name)]
    texts += [q.question + " " + " ".join(q.choices) for q in corpus.questions]
    found = sorted({w for t in texts for w in FORBIDDEN_WORDS if w in t.lower()})
    assert found == []
    for w in ("infect", "disease", "pathogen", "toxin", "virulen", "host", "outbreak", "lethal"):
        assert w in FORBIDDEN_WORDS


def test_write_corpus_layout(corpus: Corpus, tmp_path):
    out = write_corpus(corpus, tmp_path / "corpus")
    for name in DOCUMENT_SETS:
        table = pq.read_table(out / name / "part-00000.parquet")
        assert {"id", "text", "label", "domain", "kind"} <= set(table.column_names)
        assert table.num_rows == len(getattr(corpus, name))
    lines = (out / "questions" / "proxy.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    assert isinstance(row["question"], str) and len(row["choices"]) == 4 and row["choices"][row["answer"]]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["train"] == len(corpus.train)
    assert not list(out.rglob("*.tmp"))
