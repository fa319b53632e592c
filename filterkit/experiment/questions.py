"""Eval questions about the held-out entities: four-way multiple choice in the MMLU/WMDP layout.

Questions are cloze stems in the words of the training text ("The cells of Velmora kaxa are" -> " rod-shaped",
stems in ``templates/sentences.yaml``), scored by log-likelihood of each of four same-type choices, so they test
the fact, not a question-answering format a tiny model never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from filterkit.errors import FilterkitError
from filterkit.experiment.config import CORPUS_DEFAULTS
from filterkit.experiment.world import (
    COLOUR_FAMILIES,
    FESTIVALS,
    HABITATS,
    INFERABLE,
    INSTRUMENTS,
    ORGANISM_EVAL_ATTRIBUTES,
    PERSON_EVAL_ATTRIBUTES,
    PROFESSIONS,
    SHAPES,
    TOWN_EVAL_ATTRIBUTES,
    Organism,
    Split,
    Stream,
    Town,
    World,
    load_template_file,
    pick,
    split_entities,
    stream_rng,
)


@dataclass(frozen=True)
class MCQuestion:
    """A four-way multiple-choice question in the MMLU/WMDP layout (``question``, ``choices``, ``answer``);
    ``question`` is a cloze stem (see ``QUESTION_TEMPLATES``)."""

    question: str
    choices: tuple[str, str, str, str]
    answer: int
    domain: str
    entity: str
    attribute: str
    inferable: bool  # answerable from the domain's rules without having seen the fact itself


#: Cloze stems: the start of a sentence the training text uses for the fact (see the *_SENTENCES tables); the

#: Cloze stems: the start of a sentence the training text uses for the fact (see the fact_sentences tables); the
#: answer is the continuation. Held-out questions are these stems about eval entities.
QUESTION_TEMPLATES: dict[str, str] = dict(load_template_file("sentences.yaml")["questions"])

#: How the stems above are put to a model: the stem itself, continued by " " + choice.
PROMPT_TEMPLATE = "{question}"


def _distractors(rng: np.random.Generator, answer: str, pool: Sequence[str]) -> list[str]:
    candidates = sorted(set(pool) - {answer})
    if len(candidates) < 3:
        raise FilterkitError(
            f"synthetic corpus: too few distinct values to make distractors for {answer!r}; enlarge the world"
        )
    return [candidates[int(i)] for i in rng.choice(len(candidates), 3, replace=False)]


def _temperature_pool(rng: np.random.Generator, world: World, o: Organism) -> list[str]:
    """One temperature from each *other* habitat band, so knowing the habitat rule identifies the answer; taken
    from an organism of that habitat where there is one, so it is a value the corpus states (see _year_pool)."""
    pool = []
    for h in HABITATS:
        if h == o.habitat:
            continue
        seen = sorted({x.temperature_c for x in world.organisms if x.habitat == h})
        pool.append(f"{pick(rng, seen) if seen else int(rng.integers(h.low_c, h.high_c + 1))} °C")
    return pool


def _year_pool(answer: int, years: Sequence[int]) -> list[str]:
    """Distractor years are the same attribute of other entities of the world, so every choice is a year the
    corpus (and the tokenizer trained on it) contains; random years would be rarer strings, split into more
    tokens, and a model that knows nothing would still pick the real year by its tokenisation."""
    return [str(y) for y in sorted(set(years) | {answer})]


def _answer_and_pool(rng: np.random.Generator, world: World, entity, attribute: str) -> tuple[str, list[str]]:
    if isinstance(entity, Organism):
        if attribute == "shape":
            return entity.genus.shape.adjective, [s.adjective for s in SHAPES]
        if attribute == "colour":
            return entity.colour, [f"{entity.shade} {f}" for f in COLOUR_FAMILIES]
        if attribute == "temperature":
            return f"{entity.temperature_c} °C", _temperature_pool(rng, world, entity)
        if attribute == "discoverer":
            return entity.discoverer, list(world.discoverers)
        return str(entity.year), _year_pool(entity.year, [o.year for o in world.organisms])
    if isinstance(entity, Town):
        if attribute in ("river", "dialect"):
            return getattr(entity, attribute), [getattr(r, attribute) for r in world.regions]
        if attribute == "founded":
            return str(entity.founded), _year_pool(entity.founded, [t.founded for t in world.towns])
        if attribute == "festival":
            return entity.festival, list(FESTIVALS)
        return entity.mayor, [t.mayor for t in world.towns]
    if attribute == "tool":
        return entity.tool, [tool for _, tool in PROFESSIONS]
    if attribute == "instrument":
        return entity.instrument, list(INSTRUMENTS)
    if attribute == "home_town":
        return entity.home_town, [t.name for t in world.towns]
    return str(entity.birth_year), _year_pool(entity.birth_year, [p.birth_year for p in world.people])


def make_questions(
    world: World, seed: int, split: Split | None = None, eval_fraction: float = CORPUS_DEFAULTS.eval_fraction
) -> list[MCQuestion]:
    """One question per held-out (entity, eval attribute), choices shuffled with the seeded RNG; chance is 0.25."""
    split = split or split_entities(world, seed, eval_fraction)
    rng = stream_rng(seed, Stream.QUESTIONS)
    groups = (
        ("proxy", split.eval_organisms, ORGANISM_EVAL_ATTRIBUTES),
        ("general", split.eval_towns, TOWN_EVAL_ATTRIBUTES),
        ("general", split.eval_people, PERSON_EVAL_ATTRIBUTES),
    )
    questions = []
    for domain, names, attributes in groups:
        for name in names:
            entity = world.entity(name)
            for attribute in attributes:
                answer, pool = _answer_and_pool(rng, world, entity, attribute)
                choices = [answer, *_distractors(rng, answer, pool)]
                order = rng.permutation(4)
                shuffled = tuple(choices[int(i)] for i in order)
                questions.append(
                    MCQuestion(
                        question=QUESTION_TEMPLATES[attribute].format(name=name),
                        choices=shuffled,  # type: ignore[arg-type]
                        answer=shuffled.index(answer),
                        domain=domain,
                        entity=name,
                        attribute=attribute,
                        inferable=attribute in INFERABLE,
                    )
                )
    return questions
