"""The shipped lm-eval task folder: where it reads questions, and that its prompts are mc_eval's (no lm_eval needed)."""

from __future__ import annotations

import inspect
import json
import re

import pytest
import yaml

from filterkit.errors import FilterkitError
from filterkit.experiment import evals
from filterkit.experiment.lm_eval_tasks import utils

ROWS = [{"question": "The cells of Velmora kaxa are", "choices": ["rod-shaped", "round"], "answer": 0, "subject": "x"}]


def _write(path, rows=ROWS):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_questions_come_from_metadata_then_the_run_folder(tmp_path):
    run = tmp_path / "run"
    generated = _write(run / "corpus" / "questions" / "proxy.jsonl")
    (run / "models" / "baseline").mkdir(parents=True)
    model = str(run / "models" / "baseline")
    assert utils.questions_file("proxy", {"pretrained": model}) == generated
    own = _write(tmp_path / "mine" / "wmdp.jsonl")
    (run / "config.json").write_text(json.dumps({"eval_files": {"proxy": str(own)}, "corpus_dir": None}))
    assert utils.questions_file("proxy", {"pretrained": model}) == own  # the run's eval_files win over its corpus
    in_dir = {"pretrained": model, "questions_dir": str(tmp_path / "q")}
    assert utils.questions_file("proxy", in_dir) == tmp_path / "q" / "proxy.jsonl"
    assert utils.questions_file("proxy", {"proxy_file": str(generated), "questions_dir": "elsewhere"}) == generated
    with pytest.raises(FilterkitError, match=r"filterkit_general: no questions file.*--metadata.*questions_dir"):
        utils.questions_file("general", {"pretrained": model})


def test_the_dataset_holds_the_rows_mc_eval_scores(tmp_path):
    _write(tmp_path / "proxy.jsonl")
    ds = utils.proxy(questions_dir=str(tmp_path), version=1.0)  # lm-eval passes its own metadata keys too
    assert list(ds) == ["test"] and ds["test"].to_list() == [{k: ROWS[0][k] for k in evals.MC_COLUMNS}]
    with pytest.raises(FilterkitError, match="general.jsonl: questions file not found"):
        utils.general(questions_dir=str(tmp_path))


def _task_yaml(path) -> dict:
    """An lm-eval task file with safe_load: its ``!function X`` tags read as the string "!function X"."""
    return yaml.safe_load(re.sub(r"!function (\S+)", r"'!function \1'", path.read_text()))


def test_task_prompts_are_mc_eval_templates():
    tasks = {}
    for f in sorted(evals.LM_EVAL_TASKS.glob("*.yaml")):
        cfg = _task_yaml(f)
        base = _task_yaml(evals.LM_EVAL_TASKS / cfg["include"])
        tasks[cfg["task"]] = {**base, **cfg}
    assert sorted(tasks) == ["filterkit_general", "filterkit_general_cloze", "filterkit_proxy", "filterkit_proxy_cloze"]
    for name, t in tasks.items():
        domain = name.split("_")[1]
        assert t["custom_dataset"] == f"!function utils.{domain}" and "dataset_path" not in t  # local files only
        assert (t["output_type"], t["num_fewshot"], t["target_delimiter"]) == ("multiple_choice", 0, " ")
        assert {m["metric"] for m in t["metric_list"]} == {"acc", "acc_norm"}
        # jinja "{{question}}" is str.format's "{question}"; a bare column name is the stem itself
        want = "{question}" if name.endswith("_cloze") else "Question: {question}\nAnswer:"
        text = t["doc_to_text"]
        got = text.replace("{{question}}", "{question}") if "{{" in text else "{" + text + "}"
        assert got == want, name
    assert inspect.signature(evals.mc_eval).parameters["prompt_template"].default == "Question: {question}\nAnswer:"
