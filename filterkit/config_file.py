"""Reading a config file: the strict base of every model filterkit reads, one-line errors, safe YAML.

Shared by the pipeline config (:mod:`filterkit.config`), the experiment config and classifier folders, so an
unknown key, a key given twice or an alias bomb is refused the same way, with one line that names the file,
the key and the fix, whichever file it is in.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from filterkit.errors import FilterkitError


class Strict(BaseModel):
    """The base of every config model filterkit reads from a file: an unknown key is an error, not a setting
    silently ignored (a typo such as ``min_unique_hit`` must not quietly run the default)."""

    model_config = ConfigDict(extra="forbid")


def format_validation_error(path: Path | str, what: str, err: ValidationError, root: type[BaseModel]) -> str:
    """One line naming the file and every problem with its dotted key; an unknown key gets the closest valid one.

    The one formatter behind pipeline configs, classifier folders and (through ``root``) any other model read
    from a file.
    """
    parts = []
    for e in err.errors():
        loc = tuple(e["loc"])
        where = ".".join(map(str, loc)) or "(top level)"
        if e["type"] == "extra_forbidden":
            owner = _section_model(root, loc[:-1])
            valid = sorted(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
            parts.append(f"{where}: unknown key ({hint})")
        else:
            parts.append(f"{where}: {e['msg']}")
    return f"{path}: invalid {what}: " + "; ".join(parts)


def _section_model(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model that owns the keys at ``loc`` (a dotted path of section names) below ``root``."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return model  # a list index or mapping key: the nearest model above it owns the hint
        ann = model.model_fields[part].annotation
        nested = [
            a for a in (getattr(ann, "__args__", None) or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        model = nested[0] if nested else None
    return model


def read_yaml_mapping(path: str | Path, what: str, flag: str) -> dict[str, Any]:
    """A YAML file as a mapping: safe loading, keys given twice refused, every failure one line naming the file.

    The one reader behind the pipeline and the experiment configs (``what``: "pipeline config"; ``flag``: the
    option that named the file, for the "not found" fix).
    """
    path = Path(path)
    if not path.is_file():
        raise FilterkitError(f"{path}: {what} not found; pass an existing YAML file to {flag}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FilterkitError(f"{path}: {what} is not UTF-8 text; re-save it as UTF-8") from None
    from filterkit.yaml_tree import MAX_VALUES, duplicate_key, expanded_size

    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        values, cycle = expanded_size(tree) if tree is not None else (0, None)
        if cycle is not None:
            raise FilterkitError(
                f"{path}: an alias at line {cycle} refers to the value that contains it, so the "
                "value never ends; write the value out instead of the alias"
            )
        if values > MAX_VALUES:
            raise FilterkitError(
                f"{path}: its aliases (*name) expand to more than {MAX_VALUES:,} values, far more "
                f"than any {what} holds; write the values out instead of repeating aliases"
            )
        duplicate = duplicate_key(tree) if tree is not None else None
        if duplicate is not None:
            key, line = duplicate
            raise FilterkitError(
                f"{path}: key {key!r} appears twice in one section (second at line {line}); keep one of them"
            )
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise FilterkitError(f"{path}: not valid YAML{where}; fix the syntax") from None
    except RecursionError:  # PyYAML's parser and composer recurse once per nesting level
        raise FilterkitError(
            f"{path}: nested too deeply to read (hundreds of levels); a {what} is a few levels "
            "of sections — fix the file"
        ) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FilterkitError(f"{path}: a {what} must be a YAML mapping of sections, got {type(raw).__name__}")
    return raw
