"""Issue 20, item 10: the CPU scoring path makes no DNS query (onnxruntime's telemetry uploader stays off).

The probe runs filterkit's ONNX Runtime forward pass (:class:`filterkit.classify.onnx.OnnxForward`, on a tiny
stand-in graph so no 40-second export is needed) for 15 s — the uploader's first attempt comes ~10 s after
onnxruntime starts — inside a fresh network namespace (``unshare -rnm``) whose ``/etc/resolv.conf`` points at
a DNS responder on 127.0.0.1 that records every query. A control run of plain onnxruntime in the same harness
must see the telemetry host queried, or the harness proves nothing and the test skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime onnx)")
pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")

SECONDS = 15

DNS = """
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
names = []
while True:
    pkt, addr = s.recvfrom(4096)
    i, parts = 12, []
    while i < len(pkt) and pkt[i]:
        parts.append(pkt[i + 1 : i + 1 + pkt[i]].decode(errors="replace"))
        i += pkt[i] + 1
    names.append(".".join(parts))
    with open(sys.argv[1], "w") as f:
        json.dump(names, f)
    s.sendto(pkt[:2] + b"\\x81\\x83" + pkt[4:6] + b"\\x00" * 6 + pkt[12 : i + 5], addr)  # NXDOMAIN
"""

NAMESPACE = """
set -e
ip link set lo up
echo "nameserver 127.0.0.1" > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
"$PY" "$WORK/dns.py" "$WORK/queries.json" &
sleep 0.5
"$PY" "$WORK/$1" || echo "probe failed: $?" >&2
kill $!
"""

FILTERKIT_PROBE = f"""
import os, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {str(ROOT)!r})
from filterkit.classify import onnx as O
from onnx import TensorProto, helper  # onnx, not onnxruntime: nothing is started before filterkit's switch


def _graph(value):
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["rows", "tokens"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["rows", "tokens"])
    out = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["rows", 384])
    const = helper.make_tensor("c", TensorProto.FLOAT, [1, 384], [value] * 384)
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
             helper.make_node("ReduceMax", ["m", "axes"], ["one"], keepdims=1),
             helper.make_node("Mul", ["one", "c"], ["embedding"])]
    g = helper.make_graph(nodes, "stand-in", [ids, mask], [out], initializer=[const, axes])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    return model.SerializeToString()


os.environ["FILTERKIT_CACHE"] = os.path.join(os.environ["WORK"], "cache")
O._export_fp32 = lambda model_path, out: Path(out).write_bytes(_graph(0.05))
fwd = O.OnnxForward(Path(os.environ["WORK"]), "0" * 64, "fp32", threads=1)
t = time.time()
while time.time() - t < {SECONDS}:
    fwd(np.full((2, 4), 101, dtype=np.int64), np.ones((2, 4), dtype=np.int64))
    time.sleep(0.5)
"""

CONTROL_PROBE = FILTERKIT_PROBE.replace(
    "from filterkit.classify import onnx as O", "import onnxruntime\nfrom filterkit.classify import onnx as O"
)


def _queries(tmp_path: Path, probe: str, env: dict) -> list[str]:
    (tmp_path / "dns.py").write_text(DNS)
    (tmp_path / "ns.sh").write_text(NAMESPACE)
    (tmp_path / "probe.py").write_text(textwrap.dedent(probe))
    (tmp_path / "queries.json").unlink(missing_ok=True)
    res = subprocess.run(
        ["unshare", "-rnm", "sh", str(tmp_path / "ns.sh"), "probe.py"],
        env={**env, "WORK": str(tmp_path), "PY": sys.executable},
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    assert "probe failed" not in res.stderr, res.stderr[-2000:]
    f = tmp_path / "queries.json"
    return json.loads(f.read_text()) if f.is_file() else []


@pytest.fixture
def namespace_ok(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2) to run the probe in a network namespace")
    probe = subprocess.run(
        ["unshare", "-rnm", "sh", "-c", "ip link set lo up && mount --bind /dev/null /dev/null"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"unprivileged network and mount namespaces are not permitted here ({probe.stderr.strip()[:120]})")


@pytest.mark.slow
def test_the_cpu_scoring_path_makes_no_dns_query(tmp_path, namespace_ok):
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE")}
    control = _queries(tmp_path / "control", CONTROL_PROBE, env) if (tmp_path / "control").mkdir() is None else []
    if not any("microsoft" in q for q in control):
        pytest.skip(f"plain onnxruntime made no telemetry query in {SECONDS} s here ({control}): nothing to stop")
    (tmp_path / "filterkit").mkdir()
    assert _queries(tmp_path / "filterkit", FILTERKIT_PROBE, env) == []
