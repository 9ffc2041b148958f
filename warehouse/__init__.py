"""Offpeak's library: everything the night and the dashboard share, with no Dagster or Streamlit.

One subpackage per job; imports point down this list, never up it:

- ``storage``     the DuckDB files: schema and migrations, ingest, the users directory, the
                  question log and event spool, the published snapshot (writer, contract, reader).
- ``semantic``    what a question can mean in the data: the catalogue of intents, periods, the
                  bound-parameter facts SQL, template narratives, grounding, number formatting.
- ``language``    text to meaning: one lexicon, question understanding, the slot guard, the
                  embedder, the pair scorer and the matcher.
- ``forecasting`` who will ask what tomorrow: data signals, habits, peers, the economics of k.
- ``night``       the steps of one night as plain functions: plan, answers, prompts, the LLM
                  cascade, savings.

Beside the stack, never imported by it:

- ``offline``     the backtest and the pair scorer's calibration and training (CLI and benches).
- ``demo``        deterministic demo orders, users and a question-log simulator.

``tests/test_architecture.py`` runs the import-linter contracts of ``pyproject.toml`` that keep
these rules over the real import graph.
"""
