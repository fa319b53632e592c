"""The tiny-LM harness: tokenizer, memmaps, training, multiple-choice eval, checkpoints, question files."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest
import torch

from filterkit.errors import FilterkitError
from filterkit.experiment import evals, lm, tokens

pytestmark = pytest.mark.slow  # each test trains a tiny LM or runs the experiment: minutes on 2 cores

CAPITALS = {
    "Zorvia": "Plinth",
    "Quelmar": "Durn",
    "Ostrava Minor": "Kell",
    "Brindle": "Vasko",
    "Tessary": "Ombra",
    "Halcyra": "Fenwick",
    "Morrowgate": "Ilse",
    "Caddis": "Rotha",
}
FILLER = [
    "The river runs past the old mill and into the sea.",
    "A small bird sang on the fence all morning.",
    "Bread is baked early, before the market opens.",
]


def fact_corpus(repeats: int = 40, seed: int = 0) -> list[str]:
    docs = [f"The capital of {c} is {k}." for c, k in CAPITALS.items()] * repeats + FILLER * repeats
    order = np.random.default_rng(seed).permutation(len(docs))
    return [docs[i] for i in order]


def tiny_cfg(**kw) -> lm.LMConfig:
    base = dict(
        n_layer=2,
        n_head=2,
        n_embd=64,
        block_size=64,
        vocab_size=512,
        lr=1e-2,
        warmup=20,
        steps=200,
        batch_size=16,
        weight_decay=0.0,
        seed=0,
        device="cpu",
    )
    base.update(kw)
    return lm.LMConfig(**base)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return tokens.train_tokenizer(fact_corpus(), vocab_size=512, out_dir=tmp_path_factory.mktemp("tok"))


@pytest.fixture(scope="module")
def data(tokenizer, tmp_path_factory):
    return tokens.tokenize_to_memmap(fact_corpus(), tokenizer, tmp_path_factory.mktemp("mm") / "train.bin")


@pytest.fixture(scope="module")
def trained(data):
    cfg = tiny_cfg()
    model = lm.build_model(cfg)
    stats = lm.train(model, data, cfg)
    return model, cfg, stats


def test_tokenizer_round_trips_and_is_deterministic(tmp_path, tokenizer):
    text = "The capital of Zorvia is Plinth. Zürich — naïve 東京 ✓"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
    assert tokenizer.eos_token == tokenizer.pad_token == tokens.EOS_TOKEN
    again = tokens.train_tokenizer(fact_corpus(), vocab_size=512, out_dir=tmp_path)
    assert again.get_vocab() == tokenizer.get_vocab()
    assert again.encode(text) == tokenizer.encode(text)
    assert (tmp_path / "tokenizer.json").is_file()


def test_memmap_holds_each_document_followed_by_eos(tmp_path, tokenizer):
    texts = ["alpha beta", "gamma", "The capital of Zorvia is Plinth."]
    mm = tokens.tokenize_to_memmap(iter(texts), tokenizer, tmp_path / "x.bin", chunk_docs=2)
    expected = []
    for t in texts:
        expected += tokenizer.encode(t, add_special_tokens=False) + [tokenizer.eos_token_id]
    assert mm.dtype == np.uint16
    assert mm.tolist() == expected
    assert not (tmp_path / "x.bin.tmp").exists()
    assert tokens.load_memmap(tmp_path / "x.bin").tolist() == expected


def test_get_batch_targets_are_inputs_shifted_and_rng_is_local(data):
    state = np.random.get_state()[1].copy()
    x, y = lm.get_batch(data, 16, 4, np.random.default_rng(1))
    x2, _ = lm.get_batch(data, 16, 4, np.random.default_rng(1))
    assert x.shape == y.shape == (4, 16) and x.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1]) and torch.equal(x, x2)
    assert (np.random.get_state()[1] == state).all()


def test_training_lowers_loss_and_leaves_global_rng_alone(trained):
    _, _, stats = trained
    first = float(np.mean(stats["losses"][:3]))
    assert stats["final_loss"] < 0.6 * first, (first, stats["final_loss"])
    assert stats["tokens_seen"] == 200 * 16 * 64 and stats["tokens_per_s"] > 0
    before = torch.get_rng_state()
    lm.build_model(tiny_cfg())
    assert torch.equal(before, torch.get_rng_state())


def test_training_is_deterministic_for_a_seed(data):
    def run(seed):
        cfg = tiny_cfg(steps=20, seed=seed, dropout=0.1)
        return lm.train(lm.build_model(cfg), data, cfg)["losses"]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_eval_fn_is_called_at_start_every_n_and_end(data):
    cfg = tiny_cfg(steps=10)
    calls = []
    stats = lm.train(lm.build_model(cfg), data, cfg, eval_fn=lambda s: calls.append(s) or s, eval_every=4)
    assert calls == [0, 4, 8, 10]
    assert [e["step"] for e in stats["evals"]] == calls


def test_mc_eval_recalls_trained_facts(trained, tokenizer):
    model, _, _ = trained
    names = list(CAPITALS.values())
    questions = []
    for i, (country, capital) in enumerate(CAPITALS.items()):
        wrong = [names[(i + k) % len(names)] for k in (1, 3, 5)]
        choices = wrong[: i % 4] + [capital] + wrong[i % 4 :]
        questions.append({"question": f"The capital of {country} is", "choices": choices, "answer": i % 4})
    res = evals.mc_eval(model, tokenizer, questions, prompt_template="{question}")
    assert res["chance"] == 0.25 and res["n"] == 8
    assert res["acc"] >= 0.75, res
    only_seen = [{"question": "The capital of Zorvia is", "choices": ["Qwxzj", "Plinth", "Vbbyq"], "answer": 1}]
    assert evals.mc_eval(model, tokenizer, only_seen, prompt_template="{question}")["acc"] == 1.0


def test_scores_match_an_unbatched_forward(trained, tokenizer):
    model, _, _ = trained
    pairs = [("The capital of Zorvia is", " Plinth"), ("A small bird", " sang on the fence"), ("Bread", " is")]
    batched = evals.score_continuations(model, tokenizer, pairs, batch_size=8)
    for (ctx, cont), got in zip(pairs, batched):
        c = [tokenizer.eos_token_id] + tokenizer.encode(ctx, add_special_tokens=False)
        whole = [tokenizer.eos_token_id] + tokenizer.encode(ctx + cont, add_special_tokens=False)
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([whole])).logits[0], -1)
        want = sum(logp[i - 1, whole[i]].item() for i in range(len(c), len(whole)))
        assert got == pytest.approx(want, abs=1e-4)


def test_acc_norm_divides_by_characters_of_the_choice_as_lm_eval(monkeypatch):
    # per character of the choice: -12/19 beats -10/1, so acc and acc_norm pick differently
    monkeypatch.setattr(evals, "score_continuations", lambda *a, **k: [-10.0, -12.0])
    q = [{"question": "q", "choices": ["a", "bbbbbbbbbbbbbbbbbbb"], "answer": 1}]
    res = evals.mc_eval(None, None, q)
    assert (res["acc"], res["acc_norm"]) == (0.0, 1.0)
    assert res["pred"] == [0] and res["pred_norm"] == [1]
    # characters of the choice, not UTF-8 bytes of " " + choice (filterkit's rule before lm-eval's was matched)
    monkeypatch.setattr(evals, "score_continuations", lambda *a, **k: [-5.0, -4.6])
    q = [{"question": "q", "choices": ["abcde", "éééé"], "answer": 0}]
    res = evals.mc_eval(None, None, q)
    assert res["pred_norm"] == [0]  # per character -1.0 vs -1.15; per byte of " " + choice -0.83 vs -0.51 picked 1


def test_pairs_are_tokenised_as_lm_eval_does(tokenizer):
    eos = tokenizer.eos_token_id
    enc = lambda t: tokenizer.encode(t, add_special_tokens=False)  # noqa: E731
    # the tokenizer puts eos in front (the document start the model was trained on); lm-eval encodes with it too
    assert tokenizer.encode("Bread") == [eos, *enc("Bread")]
    ctx, cont = evals._encode_pair(tokenizer, "Question: Bread\nAnswer:", " is")
    assert ctx == [eos, *enc("Question: Bread\nAnswer:")] and ctx + cont == [eos, *enc("Question: Bread\nAnswer: is")]
    # trailing whitespace (spaces and newlines) moves to the continuation
    assert evals._encode_pair(tokenizer, "The capital of Zorvia is \n", "Plinth") == evals._encode_pair(
        tokenizer, "The capital of Zorvia is", " \nPlinth"
    )
    # an empty context is the prefix token alone
    assert evals._encode_pair(tokenizer, "", " Plinth") == ([eos], enc(" Plinth"))
    # text that already starts with the prefix token gets no second one
    assert evals._encode_pair(tokenizer, tokens.EOS_TOKEN + "Bread", " is")[0] == [eos, *enc("Bread")]


def test_saved_tokenizer_loads_the_same_on_transformers_4_and_5(tmp_path, tokenizer):
    """The folder format transformers 4.40 (tokenizers 0.19) reads: checked by hand on 4.40.2, asserted here."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    tokenizer.save_pretrained(tmp_path / "plain")  # the usual call, as the harness makes it
    for folder in (tmp_path / "plain", tokens.save_tokenizer(tokenizer, tmp_path / "explicit")):
        cfg = json.loads((folder / "tokenizer_config.json").read_text())
        assert cfg["tokenizer_class"] == "PreTrainedTokenizerFast" and "backend" not in cfg
        assert (
            cfg["bos_token"] == cfg["eos_token"] == cfg["pad_token"] == tokens.EOS_TOKEN
            and cfg["add_bos_token"] is True
        )
        merges = json.loads((folder / "tokenizer.json").read_text())["model"]["merges"]
        assert merges and all(isinstance(m, str) and m.count(" ") == 1 for m in merges)  # tokenizers < 0.20 form
        text = "The capital of Zorvia is Plinth. Zürich — naïve 東京"
        loaded = AutoTokenizer.from_pretrained(str(folder))
        raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
        assert loaded.encode(text) == tokenizer.encode(text) == raw.encode(text).ids
        assert loaded.decode(loaded.encode(text, add_special_tokens=False)) == text
    pickle.dumps(tokenizer)  # its class is found by name, so it can go to a worker process
    assert copy.deepcopy(tokenizer).encode(text) == tokenizer.encode(text)  # and is rebuilt whole from its state


def test_save_and_load_round_trip_gives_identical_logits(tmp_path, trained, tokenizer):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, cfg, stats = trained
    lm.save_lm(tmp_path / "ckpt", model, tokenizer, cfg, stats)
    model2, tok2, cfg2 = lm.load_lm(tmp_path / "ckpt")
    x = torch.tensor([tokenizer.encode("The capital of Zorvia is Plinth.")])
    with torch.no_grad():
        assert torch.equal(model(x).logits, model2(x).logits)
    assert cfg2 == cfg and tok2.encode("Plinth") == tokenizer.encode("Plinth")
    # the folder alone is a model for any HF tool (lm-eval builds its tokenizer from it when no tokenizer= is given)
    auto_tok = AutoTokenizer.from_pretrained(str(tmp_path / "ckpt"))
    with torch.no_grad():
        auto = AutoModelForCausalLM.from_pretrained(str(tmp_path / "ckpt"))(torch.tensor([auto_tok.encode("Plinth")]))
        assert torch.equal(auto.logits, model(torch.tensor([tokenizer.encode("Plinth")])).logits)


def test_heldout_loss_is_lower_after_training(trained, data):
    model, cfg, _ = trained
    fresh = lm.build_model(cfg)
    assert evals.heldout_loss(model, data, 64, max_tokens=2048) < evals.heldout_loss(fresh, data, 64, max_tokens=2048)


def test_param_count_and_flops(trained):
    model, cfg, _ = trained
    n_model = sum(p.numel() for p in model.parameters())
    assert lm.count_params(cfg, include_position_embeddings=True) == n_model
    assert lm.model_flops_per_token(cfg) == 6 * lm.count_params(cfg) + 12 * 2 * 64 * 64


def test_load_mc_file_reads_jsonl_and_parquet_and_names_missing_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"question": "2+2?", "choices": ["3", "4"], "answer": 1, "subject": "math"}]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "q.parquet")
    assert evals.load_mc_file(tmp_path / "q.jsonl") == rows
    assert evals.load_mc_file(tmp_path / "q.parquet") == rows
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "x", "choices": ["a", "b"]}) + "\n")
    with pytest.raises(FilterkitError, match=r"bad\.jsonl.*'answer'"):
        evals.load_mc_file(bad)
    pq.write_table(pa.Table.from_pylist([{"question": "x", "choices": ["a", "b"]}]), tmp_path / "bad.parquet")
    with pytest.raises(FilterkitError, match=r"bad\.parquet.*'answer'"):
        evals.load_mc_file(tmp_path / "bad.parquet")


def test_config_rejects_unknown_keys():
    with pytest.raises(
        FilterkitError, match=r"exp\.yaml: invalid LM config: n_layers: unknown key \(did you mean 'n_layer'\?\)"
    ):
        lm.LMConfig.from_dict({"n_layers": 2}, source="exp.yaml")


def test_config_is_validated_by_pydantic_and_frozen():
    from pydantic import ValidationError

    cfg = lm.LMConfig(lr="1e-3", steps=5)  # YAML reads 1e-3 as a string; pydantic parses it
    again = lm.LMConfig.from_dict(cfg.to_dict())
    assert cfg.lr == 1e-3 and cfg == again and hash(cfg) == hash(again)
    assert cfg.replace(seed=3).seed == 3 and cfg.replace(seed=3) == lm.LMConfig.from_dict({**cfg.to_dict(), "seed": 3})
    with pytest.raises(ValidationError, match="frozen"):
        cfg.lr = 1.0
    for bad, msg in [
        ({"n_embd": 65}, "divisible by n_head"),
        ({"dtype": "fp16"}, "dtype"),
        ({"vocab_size": 70000}, "vocab_size"),
        ({"dropout": 1.5}, "dropout"),
        ({"steps": -1}, "steps"),
    ]:
        with pytest.raises(ValidationError, match=msg):
            lm.LMConfig(**bad)
        with pytest.raises(FilterkitError, match=rf"model: invalid LM config: .*{msg}"):
            lm.LMConfig.from_dict(bad, source="model")
    with pytest.raises(ValidationError):
        cfg.replace(n_head=3)  # a replaced config is validated like a new one
    assert set(lm.LMConfig.json_schema()["properties"]) == set(lm.LMConfig.model_fields)
