"""The synthetic world: fictional organisms, towns and people whose facts follow simple rules, and the split of
entities into training and held-out (eval) ones.

Why synthetic: to show that a model trained on filtered data *does not know* the proxy facts, we need facts
that exist nowhere else (so no pretrained prior can answer), a held-out set whose absence from training we can
prove, and structure a model can learn (so "inferable" facts measure generalisation, not memorisation).

Two domains:

* **proxy** — fictional microorganisms with benign attributes only (habitat, cell shape, colony colour,
  optimal growth temperature, discoverer, year). Rules: a genus fixes the cell shape and the colour family;
  a habitat bounds the growth temperature. Nothing harm-related is ever generated (see ``FORBIDDEN_WORDS``).
* **general** — fictional towns and people. Rules: a region fixes its towns' river, dialect and name suffix;
  a profession fixes the tool.

The names and values are data (``templates/vocabulary.yaml``); this file is the model that draws from them.
All randomness flows from ``numpy.random.default_rng([seed, stream])``: one independent stream per purpose,
so adding documents to one set never reshuffles another.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from filterkit.errors import FilterkitError
from filterkit.experiment.config import CORPUS_DEFAULTS

TEMPLATES = Path(__file__).parent / "templates"


@cache
def load_template_file(name: str) -> dict[str, Any]:
    """A data file from ``templates/`` (safe YAML), read once per process."""
    return yaml.safe_load((TEMPLATES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Shape:
    """A cell shape and the surface forms text uses for it (all count as "stating" the shape)."""

    name: str
    adjective: str
    plural: str


@dataclass(frozen=True)
class Habitat:
    """A habitat and the optimal-temperature band (°C, inclusive) every organism living there falls in."""

    name: str
    plural: str
    where: str  # the name as a noun phrase with its article ("a hot spring", "glacier ice")
    low_c: int
    high_c: int
    scene: str  # a sentence fragment for diary-style text, no organism vocabulary


_V = load_template_file("vocabulary.yaml")
GENUS_NAMES: tuple[str, ...] = tuple(_V["genus_names"])
EPITHET_ONSETS: tuple[str, ...] = tuple(_V["epithet_onsets"])
EPITHET_MIDDLES: tuple[str, ...] = tuple(_V["epithet_middles"])
EPITHET_ENDINGS: tuple[str, ...] = tuple(_V["epithet_endings"])
SHAPES: tuple[Shape, ...] = tuple(Shape(**s) for s in _V["shapes"])
COLOUR_FAMILIES: tuple[str, ...] = tuple(_V["colour_families"])
COLOUR_SHADES: tuple[str, ...] = tuple(_V["colour_shades"])
HABITATS: tuple[Habitat, ...] = tuple(Habitat(**h) for h in _V["habitats"])
GROUP_PLURALS: dict[str, str] = dict(_V["group_plurals"])
FIRST_NAMES: tuple[str, ...] = tuple(_V["first_names"])
SURNAME_PARTS_A: tuple[str, ...] = tuple(_V["surname_parts_a"])
SURNAME_PARTS_B: tuple[str, ...] = tuple(_V["surname_parts_b"])
#: (region, town-name suffix, river, dialect)
REGIONS: tuple[tuple[str, str, str, str], ...] = tuple(
    (r["name"], r["suffix"], r["river"], r["dialect"]) for r in _V["regions"]
)
TOWN_PREFIXES: tuple[str, ...] = tuple(_V["town_prefixes"])
FESTIVALS: tuple[str, ...] = tuple(_V["festivals"])
#: (profession, tool) — a profession fixes the tool
PROFESSIONS: tuple[tuple[str, str], ...] = tuple((p["profession"], p["tool"]) for p in _V["professions"])
INSTRUMENTS: tuple[str, ...] = tuple(_V["instruments"])
#: Words that must never occur in generated text (the content rule); tests scan every document for them.
FORBIDDEN_WORDS: tuple[str, ...] = tuple(_V["forbidden_words"])
del _V

ORGANISM_EVAL_ATTRIBUTES = ("shape", "colour", "temperature", "discoverer", "year")
TOWN_EVAL_ATTRIBUTES = ("river", "dialect", "founded", "festival", "mayor")
PERSON_EVAL_ATTRIBUTES = ("tool", "instrument", "home_town", "birth_year")
INFERABLE = {"shape", "colour", "temperature", "river", "dialect", "tool"}


class Stream(IntEnum):
    """Stream ids for ``np.random.default_rng([seed, stream])``: each purpose has its own reproducible stream.

    Appended, never renumbered: a new stream leaves every existing set of a seed unchanged."""

    WORLD = 0
    SPLIT = 1
    TRAIN = 2
    ATTACK_WEAK = 3
    FACT_INJECTION = 4
    CONTROL = 5
    QUESTIONS = 6
    PROXY_HELDOUT = 7
    HABITAT_NOTES = 8


def stream_rng(seed: int, stream: Stream) -> np.random.Generator:
    """The generator of one purpose (``stream``) of one seed, independent of every other stream."""
    return np.random.default_rng([seed, int(stream)])


def pick(rng: np.random.Generator, seq: Sequence):
    """One element of ``seq``, drawn from ``rng``."""
    return seq[int(rng.integers(len(seq)))]


# --------------------------------------------------------------------------------------------------------------
# World model
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Genus:
    """A genus fixes the cell shape and colour family of all its members: the proxy domain's main rule."""

    name: str
    shape: Shape
    colour_family: str
    group: str  # "bacterium" | "archaeon": fixed by the genus too, so it is one more learnable regularity


@dataclass(frozen=True)
class Organism:
    name: str  # "Genus epithet"
    genus: Genus
    habitat: Habitat
    shade: str
    temperature_c: int
    discoverer: str
    year: int

    @property
    def colour(self) -> str:
        return f"{self.shade} {self.genus.colour_family}"


@dataclass(frozen=True)
class Region:
    """A region fixes the river, dialect and name suffix of its towns: the general domain's main rule."""

    name: str
    suffix: str
    river: str
    dialect: str


@dataclass(frozen=True)
class Town:
    name: str
    region: Region
    founded: int
    festival: str
    mayor: str

    @property
    def river(self) -> str:
        return self.region.river

    @property
    def dialect(self) -> str:
        return self.region.dialect


@dataclass(frozen=True)
class Person:
    name: str
    profession: str
    tool: str  # fixed by profession
    home_town: str
    instrument: str
    birth_year: int


@dataclass(frozen=True)
class World:
    genera: tuple[Genus, ...]
    organisms: tuple[Organism, ...]
    regions: tuple[Region, ...]
    towns: tuple[Town, ...]
    people: tuple[Person, ...]
    discoverers: tuple[str, ...]

    def entity(self, name: str) -> Organism | Town | Person:
        for e in (*self.organisms, *self.towns, *self.people):
            if e.name == name:
                return e
        raise KeyError(name)


class _NameMaker:
    """Hands out unique names, so a name identifies one entity and fact checks by substring are sound."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(10_000):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise FilterkitError("synthetic world: ran out of unique names; lower n_organisms/n_towns/n_people")

    def person(self) -> str:
        return self._unique(
            lambda: f"{pick(self.rng, FIRST_NAMES)} {pick(self.rng, SURNAME_PARTS_A)}{pick(self.rng, SURNAME_PARTS_B)}"
        )

    def organism(self, genus: str) -> str:
        def make() -> str:
            return f"{genus} {pick(self.rng, EPITHET_ONSETS)}{pick(self.rng, EPITHET_MIDDLES)}{pick(self.rng, EPITHET_ENDINGS)}"

        return self._unique(make)

    def town(self, suffix: str) -> str:
        return self._unique(lambda: f"{pick(self.rng, TOWN_PREFIXES)}{suffix}")


def make_world(
    seed: int,
    n_organisms: int = CORPUS_DEFAULTS.n_organisms,
    n_genera: int = 8,
    n_discoverers: int = 30,
    n_towns: int = CORPUS_DEFAULTS.n_towns,
    n_people: int = CORPUS_DEFAULTS.n_people,
) -> World:
    """Draw a world whose facts follow the domain rules; the same seed gives the same world."""
    if not (1 <= n_genera <= len(GENUS_NAMES)):
        raise FilterkitError(f"synthetic world: n_genera must be 1..{len(GENUS_NAMES)}, got {n_genera}")
    rng = stream_rng(seed, Stream.WORLD)
    names = _NameMaker(rng)
    genus_names = rng.choice(GENUS_NAMES, n_genera, replace=False)
    shape_idx = rng.choice(len(SHAPES), n_genera, replace=n_genera > len(SHAPES))
    colour_idx = rng.choice(len(COLOUR_FAMILIES), n_genera, replace=n_genera > len(COLOUR_FAMILIES))
    genera = tuple(
        Genus(str(g), SHAPES[int(s)], COLOUR_FAMILIES[int(c)], pick(rng, ("bacterium", "archaeon")))
        for g, s, c in zip(genus_names, shape_idx, colour_idx)
    )
    discoverers = tuple(names.person() for _ in range(n_discoverers))
    organisms = []
    for _ in range(n_organisms):
        genus = pick(rng, genera)
        habitat = pick(rng, HABITATS)
        organisms.append(
            Organism(
                name=names.organism(genus.name),
                genus=genus,
                habitat=habitat,
                shade=pick(rng, COLOUR_SHADES),
                temperature_c=int(rng.integers(habitat.low_c, habitat.high_c + 1)),
                discoverer=pick(rng, discoverers),
                year=int(rng.integers(1850, 2021)),
            )
        )
    regions = tuple(Region(*r) for r in REGIONS)
    towns = []
    for _ in range(n_towns):
        region = pick(rng, regions)
        towns.append(
            Town(
                name=names.town(region.suffix),
                region=region,
                founded=int(rng.integers(1100, 1800)),
                festival=pick(rng, FESTIVALS),
                mayor=names.person(),
            )
        )
    people = []
    for _ in range(n_people):
        profession, tool = pick(rng, PROFESSIONS)
        people.append(
            Person(
                name=names.person(),
                profession=profession,
                tool=tool,
                home_town=pick(rng, towns).name,
                instrument=pick(rng, INSTRUMENTS),
                birth_year=int(rng.integers(1920, 2006)),
            )
        )
    return World(genera, tuple(organisms), regions, tuple(towns), tuple(people), discoverers)


# --------------------------------------------------------------------------------------------------------------
# Held-out split
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Which entities' eval attributes are held out of every training and weak-attack document."""

    eval_organisms: tuple[str, ...]
    eval_towns: tuple[str, ...]
    eval_people: tuple[str, ...]

    def is_eval(self, name: str) -> bool:
        return name in self.eval_organisms or name in self.eval_towns or name in self.eval_people


def _stratified(rng: np.random.Generator, names_by_group: dict[str, list[str]], fraction: float) -> tuple[str, ...]:
    """Hold out ``fraction`` of each group but keep at least one training member, so each rule has examples."""
    chosen: list[str] = []
    for group in sorted(names_by_group):
        members = names_by_group[group]
        k = min(int(round(fraction * len(members))), len(members) - 1)
        if k > 0:
            chosen.extend(str(x) for x in rng.choice(members, k, replace=False))
    return tuple(sorted(chosen))


def split_entities(world: World, seed: int, eval_fraction: float = CORPUS_DEFAULTS.eval_fraction) -> Split:
    """Pick the eval entities (stratified by genus and by region); the rest are training entities."""
    if not 0.0 < eval_fraction < 1.0:
        raise FilterkitError(f"synthetic corpus: eval_fraction must be in (0, 1), got {eval_fraction}")
    rng = stream_rng(seed, Stream.SPLIT)
    by_genus: dict[str, list[str]] = {}
    for o in world.organisms:
        by_genus.setdefault(o.genus.name, []).append(o.name)
    by_region: dict[str, list[str]] = {}
    for t in world.towns:
        by_region.setdefault(t.region.name, []).append(t.name)
    people = [p.name for p in world.people]
    k = int(round(eval_fraction * len(people)))
    return Split(
        eval_organisms=_stratified(rng, by_genus, eval_fraction),
        eval_towns=_stratified(rng, by_region, eval_fraction),
        eval_people=tuple(sorted(str(x) for x in rng.choice(people, k, replace=False))),
    )


def fact_surface_forms(entity: Organism | Town | Person, attribute: str) -> tuple[str, ...]:
    """Every string by which rendered text states ``attribute`` of ``entity``; used to prove held-out facts are
    absent (a document naming the entity and any of these forms states the fact)."""
    if isinstance(entity, Organism):
        forms = {
            "shape": (entity.genus.shape.name, entity.genus.shape.adjective, entity.genus.shape.plural),
            "colour": (entity.colour, entity.genus.colour_family),
            "temperature": (str(entity.temperature_c),),
            "discoverer": (entity.discoverer,),
            "year": (str(entity.year),),
            "habitat": (entity.habitat.name, entity.habitat.plural),
        }
    elif isinstance(entity, Town):
        forms = {
            "river": (entity.river,),
            "dialect": (entity.dialect,),
            "founded": (str(entity.founded),),
            "festival": (entity.festival,),
            "mayor": (entity.mayor,),
            "region": (entity.region.name,),
        }
    else:
        forms = {
            "tool": (entity.tool,),
            "instrument": (entity.instrument,),
            "home_town": (entity.home_town,),
            "birth_year": (str(entity.birth_year),),
            "profession": (entity.profession,),
        }
    return forms[attribute]


def states_fact(text: str, entity: Organism | Town | Person, attribute: str) -> bool:
    """True when ``text`` names ``entity`` and states ``attribute`` in any surface form (whole words, any case)."""
    if not re.search(rf"\b{re.escape(entity.name)}\b", text):
        return False
    return any(
        re.search(rf"\b{re.escape(f)}\b", text, flags=re.IGNORECASE) for f in fact_surface_forms(entity, attribute)
    )
