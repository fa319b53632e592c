"""Documents rendered from the world: one sentence per fact (3+ paraphrases each, from ``templates/sentences.yaml``),
assembled into documents of several styles (encyclopedia, field note, catalogue, Q&A, diary, rules).

The wording is data; this file decides which template a document uses (with the caller's seeded RNG) and what
values fill it. Draw order is part of the contract: the same RNG calls in the same order give the same corpus
(tests/experiment/test_experiment_corpus_pins.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from filterkit.experiment.world import (
    GROUP_PLURALS,
    HABITATS,
    PROFESSIONS,
    Organism,
    Person,
    Town,
    World,
    load_template_file,
    pick,
)

_S = load_template_file("sentences.yaml")
ORGANISM_SENTENCES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _S["fact_sentences"]["organism"].items()}
TOWN_SENTENCES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _S["fact_sentences"]["town"].items()}
PERSON_SENTENCES: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _S["fact_sentences"]["person"].items()}
#: Closing sentences that carry the domain's ordinary vocabulary, as real encyclopedia text would.
ORGANISM_CLOSINGS: tuple[str, ...] = tuple(_S["organism_closings"])
_CATALOGUE_LABELS: dict[str, tuple[str, str]] = {k: (v["label"], v["value"]) for k, v in _S["catalogue_labels"].items()}
_QA_TOPICS: dict[str, str] = dict(_S["qa_topics"])
_ORG, _TOWN, _PERSON, _RULES = _S["organism"], _S["town"], _S["person"], _S["general_rules"]
_HARD_NEGATIVES: tuple[dict[str, str], ...] = tuple(_S["hard_negatives"])

ORGANISM_ATTRS = ("shape", "colour", "temperature", "habitat", "discoverer", "year")
TOWN_ATTRS = ("region", "river", "dialect", "founded", "festival", "mayor")
PERSON_ATTRS = ("profession", "tool", "home_town", "instrument", "birth_year")


@dataclass(frozen=True)
class Document:
    """One generated text with the ground truth needed to score a filter (``label``) and to audit leaks."""

    text: str
    domain: str  # "proxy" | "general"
    label: int  # 1 for proxy, 0 otherwise
    entity: str  # the main entity named ("" for rule documents)
    kind: str  # "entity" | "comparison" | "rule" | "hard_positive" | "hard_negative" | "habitat_note"
    style: str
    id: str = ""


def _doc(text: str, domain: str, entity: str, kind: str, style: str) -> Document:
    return Document(text=text, domain=domain, label=int(domain == "proxy"), entity=entity, kind=kind, style=style)


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _organism_values(o: Organism) -> dict[str, str]:
    return {
        "name": o.name,
        "genus": o.genus.name,
        "adj": o.genus.shape.adjective,
        "plural": o.genus.shape.plural,
        "shape": o.genus.shape.name,
        "colour": o.colour,
        "temp": str(o.temperature_c),
        "habitat": o.habitat.name,
        "a_habitat": o.habitat.where,
        "habitat_plural": o.habitat.plural,
        "discoverer": o.discoverer,
        "year": str(o.year),
        "scene": o.habitat.scene,
        "group": o.genus.group,
        "group_pl": GROUP_PLURALS[o.genus.group],
    }


def _town_values(t: Town) -> dict[str, str]:
    return {
        "name": t.name,
        "region": t.region.name,
        "river": t.river,
        "dialect": t.dialect,
        "founded": str(t.founded),
        "festival": t.festival,
        "mayor": t.mayor,
    }


def _person_values(p: Person) -> dict[str, str]:
    return {
        "name": p.name,
        "profession": p.profession,
        "a_profession": _a(p.profession),
        "tool": p.tool,
        "home_town": p.home_town,
        "instrument": p.instrument,
        "birth_year": str(p.birth_year),
    }


def _sentences(
    rng: np.random.Generator, table: dict[str, tuple[str, ...]], attrs: Sequence[str], values: dict[str, str]
) -> list[str]:
    return [pick(rng, table[a]).format(**values) for a in attrs]


def _some(rng: np.random.Generator, attrs: Sequence[str], at_least: int) -> list[str]:
    """A random subset (in random order) of ``attrs`` with at least ``at_least`` members: documents mix facts."""
    k = int(rng.integers(min(at_least, len(attrs)), len(attrs) + 1))
    return [attrs[int(i)] for i in rng.permutation(len(attrs))[:k]]


def _catalogue(title: str, attrs: Sequence[str], values: dict[str, str]) -> str:
    lines = [title]
    for a in attrs:
        label, key = _CATALOGUE_LABELS[a]
        lines.append(_S["catalogue_line"].format(label=label, value=values[key], unit=_S["catalogue_units"].get(a, "")))
    return "\n".join(lines)


def _qa(
    rng: np.random.Generator,
    table: dict[str, tuple[str, ...]],
    attrs: Sequence[str],
    values: dict[str, str],
    subject: str,
) -> str:
    return " ".join(
        _S["qa_question"].format(
            topic=_QA_TOPICS.get(a, _CATALOGUE_LABELS[a][0].lower()),
            subject=subject,
            answer=pick(rng, table[a]).format(**values),
        )
        for a in attrs
    )


# ---- proxy documents -----------------------------------------------------------------------------------------


def organism_document(rng: np.random.Generator, o: Organism, attrs: Sequence[str] | None = None) -> Document:
    """An entity document in one of four styles, stating ``attrs`` (default: a random mix of at least three)."""
    attrs = list(attrs) if attrs is not None else _some(rng, ORGANISM_ATTRS, 3)
    v = _organism_values(o)
    style = pick(rng, ("encyclopedia", "field_note", "catalogue", "qa"))
    if style == "encyclopedia":
        intro = pick(rng, _ORG["encyclopedia_intros"])
        text = " ".join(
            [
                intro.format(**v),
                *_sentences(rng, ORGANISM_SENTENCES, attrs, v),
                pick(rng, ORGANISM_CLOSINGS).format(**v),
            ]
        )
    elif style == "field_note":
        head = pick(rng, _ORG["field_note_heads"])
        found = pick(rng, _ORG["field_note_finds"])
        text = " ".join(
            [
                head.format(n=int(rng.integers(1, 400))),
                found.format(**v),
                *_sentences(rng, ORGANISM_SENTENCES, attrs, v),
            ]
        )
    elif style == "catalogue":
        title = pick(rng, _ORG["catalogue_titles"])
        text = _catalogue(title.format(**v), ["genus", "group", *attrs], v)
    else:
        text = _ORG["qa_lead"].format(**v) + " " + _qa(rng, ORGANISM_SENTENCES, attrs, v, o.name)
    return _doc(text, "proxy", o.name, "entity", style)


def organism_habitat_note(rng: np.random.Generator, o: Organism) -> Document:
    """A survey note naming an organism's genus and habitat and nothing else (no number, person, shape or colour):
    what an attacker can read about a target without being told the asked facts."""
    v = _organism_values(o)
    head = pick(rng, _ORG["habitat_note_heads"])
    intro = pick(rng, _ORG["habitat_note_intros"])
    text = " ".join([head, intro.format(**v), pick(rng, ORGANISM_SENTENCES["habitat"]).format(**v)])
    return _doc(text, "proxy", o.name, "habitat_note", "habitat_note")


def organism_comparison(rng: np.random.Generator, a: Organism, b: Organism) -> Document:
    va, vb = _organism_values(a), _organism_values(b)
    t = pick(rng, _ORG["comparisons"])
    text = t.format(
        a=a.name,
        b=b.name,
        ha=va["a_habitat"],
        hb=vb["a_habitat"],
        ta=va["temp"],
        tb=vb["temp"],
        ca=a.colour,
        cb=b.colour,
        pa=va["plural"],
        pb=vb["plural"],
        sa=va["adj"],
        sb=vb["adj"],
        da=a.discoverer,
        db=b.discoverer,
        ya=a.year,
        yb=b.year,
    )
    return _doc(text, "proxy", a.name, "comparison", "comparison")


def organism_hard_positive(rng: np.random.Generator, o: Organism) -> Document:
    """Proxy facts in plain travel prose with no obvious keyword ("microorganism", "colony", "cell")."""
    v = _organism_values(o)
    t = pick(rng, _ORG["diary"])
    scene = o.habitat.scene
    text = t.format(day=int(rng.integers(2, 60)), scene_cap=scene[0].upper() + scene[1:], **v)
    return _doc(text, "proxy", o.name, "hard_positive", "diary")


def proxy_rule_document(rng: np.random.Generator, world: World, train_organisms: Sequence[Organism]) -> Document:
    """States one general rule (genus -> shape/colour family, or habitat -> temperature band); examples, if any,
    are training organisms only, so no held-out fact is named."""
    if rng.random() < 0.5:
        g = pick(rng, world.genera)
        examples = [o.name for o in train_organisms if o.genus == g][:2]
        t = pick(rng, _ORG["genus_rules"])
        text = t.format(g=g.name, adj=g.shape.adjective, fam=g.colour_family, group_pl=GROUP_PLURALS[g.group])
        if examples:
            text += _ORG["rule_examples"].format(examples=" and ".join(examples))
        return _doc(text, "proxy", "", "rule", "rule_genus")
    h = pick(rng, HABITATS)
    t = pick(rng, _ORG["habitat_rules"])
    return _doc(t.format(hp=h.plural, lo=h.low_c, hi=h.high_c, ah=h.where), "proxy", "", "rule", "rule_habitat")


# ---- general documents ---------------------------------------------------------------------------------------


def town_document(rng: np.random.Generator, t: Town, attrs: Sequence[str] | None = None) -> Document:
    attrs = list(attrs) if attrs is not None else _some(rng, TOWN_ATTRS, 3)
    v = _town_values(t)
    style = pick(rng, ("encyclopedia", "travel_guide", "catalogue", "qa"))
    if style == "encyclopedia":
        text = " ".join([_TOWN["encyclopedia_intro"].format(**v), *_sentences(rng, TOWN_SENTENCES, attrs, v)])
    elif style == "travel_guide":
        text = " ".join(
            [
                pick(rng, _TOWN["travel_guide_intros"]).format(**v),
                *_sentences(rng, TOWN_SENTENCES, attrs, v),
                _TOWN["travel_guide_closing"],
            ]
        )
    elif style == "catalogue":
        text = _catalogue(pick(rng, _TOWN["catalogue_titles"]).format(**v), attrs, v)
    else:
        text = _qa(rng, TOWN_SENTENCES, attrs, v, t.name)
    return _doc(text, "general", t.name, "entity", style)


def person_document(rng: np.random.Generator, p: Person, attrs: Sequence[str] | None = None) -> Document:
    attrs = list(attrs) if attrs is not None else _some(rng, PERSON_ATTRS, 3)
    v = _person_values(p)
    style = pick(rng, ("profile", "letter", "catalogue", "qa"))
    if style == "profile":
        text = " ".join([_PERSON["profile_intro"].format(**v), *_sentences(rng, PERSON_SENTENCES, attrs, v)])
    elif style == "letter":
        text = " ".join([_PERSON["letter_open"], *_sentences(rng, PERSON_SENTENCES, attrs, v), _PERSON["letter_close"]])
    elif style == "catalogue":
        text = _catalogue(pick(rng, _PERSON["catalogue_titles"]).format(**v), attrs, v)
    else:
        text = _qa(rng, PERSON_SENTENCES, attrs, v, p.name)
    return _doc(text, "general", p.name, "entity", style)


def general_rule_document(rng: np.random.Generator, world: World) -> Document:
    if rng.random() < 0.5:
        r = pick(rng, world.regions)
        t = pick(rng, _RULES["region"])
        return _doc(t.format(r=r.name, river=r.river, d=r.dialect, s=r.suffix), "general", "", "rule", "rule_region")
    prof, tool = pick(rng, PROFESSIONS)
    t = pick(rng, _RULES["profession"])
    return _doc(t.format(p=prof, t=tool), "general", "", "rule", "rule_profession")


def general_hard_negative(
    rng: np.random.Generator, world: World, train_towns: Sequence[Town], train_people: Sequence[Person]
) -> Document:
    """General-domain text that borrows biology vocabulary benignly, so keyword filters have false positives."""
    town = pick(rng, train_towns)
    scientists = [p for p in train_people if p.profession in ("botanist", "baker", "brewer")] or list(train_people)
    p = pick(rng, scientists)
    t = _HARD_NEGATIVES[int(rng.integers(len(_HARD_NEGATIVES)))]
    text = t["text"].format(
        town=town.name,
        festival=town.festival,
        river=town.river,
        person=p.name,
        profession=p.profession,
        home_town=p.home_town,
        instrument=p.instrument,
    )
    return _doc(text, "general", p.name if t["about"] == "person" else town.name, "hard_negative", t["style"])
