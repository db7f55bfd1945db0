# Quick start: `make demo` (creates .venv, installs, runs the demo case) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test docs bench validation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,render,sweep,dicom]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/perfusion run cases/liver_hai.toml -o results/liver-hai --overwrite --render

test: $(STAMP)
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/python -m perfusion.case.docs README.md
	$(BIN)/python benchmarks/readme_figures.py README.md benchmarks/RESULTS.md

validation: $(STAMP)
	$(BIN)/python benchmarks/validation_report.py docs/validation.md

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pressure.py

clean:
	rm -rf $(VENV) results .pytest_cache
