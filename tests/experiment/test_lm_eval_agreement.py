"""lm-eval-harness and filterkit's mc_eval give the same acc and acc_norm on a saved experiment model.

The model folder is used as lm-eval users use one (``model="hf", pretrained=FOLDER``, no ``tokenizer=``), with the
task folder filterkit ships (``LM_EVAL_TASKS``) reading local question files. The questions are picked to exercise
every rule of the scoring contract: multi-byte choices (acc_norm counts characters, not bytes), a stem ending in a
space (moved to the continuation), an empty stem (lm-eval's prefix-token path) and choices of unequal length.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from filterkit.experiment import evals, lm, tokens

lm_eval = pytest.importorskip("lm_eval", reason="lm_eval is not installed (pip install -e '.[dev]' installs it)")
pytest.importorskip("accelerate", reason="lm_eval's hf model needs accelerate (lm_eval[hf], in the dev extra)")

FACTS = {
    "Zorvia": "Plinth",
    "Quelmar": "Durn",
    "Brindle": "Vasko",
    "Tessary": "Ombra",
    "Caddis": "Rotha",
    "Östervik": "Åmål",
    "Kyōbashi": "Tōkyō",
}
FILLER = ["The river runs past the old mill.", "Bread is baked early, before the market opens."]


def _questions() -> list[dict]:
    names = list(FACTS.values())
    qs = []
    for i, (country, capital) in enumerate(FACTS.items()):
        wrong = [names[(i + k) % len(names)] for k in (1, 2, 4)]
        qs.append(
            {
                "question": f"The capital of {country} is",
                "choices": wrong[: i % 4] + [capital] + wrong[i % 4 :],
                "answer": i % 4,
            }
        )
    qs += [
        {"question": "The capital of Zorvia is ", "choices": ["Plinth", "Durn"], "answer": 0},  # trailing space
        {"question": "", "choices": ["The capital", "Bread", "éééééé"], "answer": 1},  # empty stem
        {"question": "Which is bread?", "choices": ["baked early, before the market", "ÅÅÅ", "mill"], "answer": 0},
    ]
    return qs


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny GPT-2 trained for a few seconds, saved with save_lm, and its questions written as jsonl."""
    root = tmp_path_factory.mktemp("lmeval")
    docs = [f"The capital of {c} is {k}." for c, k in FACTS.items()] * 12 + FILLER * 12
    docs = [docs[i] for i in np.random.default_rng(0).permutation(len(docs))]
    tok = tokens.train_tokenizer(docs, vocab_size=300)
    data = tokens.tokenize_to_memmap(docs, tok, root / "train.bin")
    cfg = lm.LMConfig(
        n_layer=1,
        n_head=2,
        n_embd=32,
        block_size=32,
        vocab_size=len(tok),
        lr=1e-2,
        warmup=5,
        steps=40,
        batch_size=8,
        weight_decay=0.0,
        device="cpu",
    )
    model = lm.build_model(cfg)
    lm.train(model, data, cfg)
    folder = lm.save_lm(root / "run" / "models" / "baseline", model, tok, cfg)
    qdir = root / "questions"
    qdir.mkdir()
    for domain in ("proxy", "general"):
        (qdir / f"{domain}.jsonl").write_text(
            "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in _questions()), encoding="utf-8"
        )
    return folder, qdir, model, tok


@pytest.mark.slow
def test_lm_eval_and_mc_eval_agree_on_acc_and_acc_norm(saved):
    folder, qdir, model, tok = saved
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(evals.LM_EVAL_TASKS), metadata={"questions_dir": str(qdir)})
    out = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(folder)},
        tasks=["filterkit_proxy", "filterkit_general_cloze"],
        device="cpu",
        batch_size=4,
        task_manager=tm,
        log_samples=True,
    )
    questions = evals.load_mc_file(qdir / "proxy.jsonl")
    for task, template in (
        ("filterkit_proxy", "Question: {question}\nAnswer:"),
        ("filterkit_general_cloze", "{question}"),
    ):
        ours = evals.mc_eval(model, tok, questions, prompt_template=template, device="cpu")
        theirs = out["results"][task]
        assert theirs["acc,none"] == pytest.approx(ours["acc"], abs=1e-4), task
        assert theirs["acc_norm,none"] == pytest.approx(ours["acc_norm"], abs=1e-4), task
        samples = sorted(out["samples"][task], key=lambda s: s["doc_id"])
        assert len(samples) == len(questions)
        for s, q, scores in zip(samples, questions, ours["scores"]):
            assert s["arguments"][0][0] == template.format(question=q["question"])  # the same prompt text
            assert [float(r[0]) for r in s["filtered_resps"]] == pytest.approx(scores, abs=1e-4), (task, q)
        assert [s["acc"] for s in samples] == [float(p == q["answer"]) for p, q in zip(ours["pred"], questions)]
        norm_hits = [float(p == q["answer"]) for p, q in zip(ours["pred_norm"], questions)]
        assert [s["acc_norm"] for s in samples] == norm_hits
    # not a vacuous agreement: the model is neither at chance nor perfect, and the two metrics differ somewhere
    cloze = evals.mc_eval(model, tok, questions, prompt_template="{question}")
    assert 0.0 < cloze["acc"] < 1.0 or cloze["pred"] != cloze["pred_norm"]
