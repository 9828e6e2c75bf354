# LeNet-5, built step by step: the commands a learner or instructor needs.
# `make lab` and `make test` create .venv and install the course on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Two installs: what a learner needs (the course, JupyterLab, widgets), and
# that plus the test and lint tools. Each is redone when pyproject.toml changes.
LEARNER_STAMP := $(VENV)/.installed-learner
STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(PY) -m pip install --quiet
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with lenet_course/instructor/nbval_sanitize.cfg

.PHONY: help install lab test test-unit test-notebooks test-browser lint format train notebooks release grade bench check-gpu clean

help:
	@echo "make lab             open the course in JupyterLab (creates .venv on first use)"
	@echo "make test            run every test: unit tests, all chapters with nbval, browser tests"
	@echo "make train           train LeNet-5 from the command line (results in runs/lenet5)"
	@echo "make release         write the learner version of the chapters into release/"
	@echo "make grade           grade learners' notebooks in submissions/ (SUBMISSIONS=folder)"
	@echo "make bench           compare the seed article's pipeline with the course's fast path"
	@echo "make check-gpu       on a machine with a CUDA GPU: CUDA tests, every chapter on the GPU, a quick bench"
	@echo "make test-browser    only the JupyterLab-in-Chromium tests"
	@echo "make notebooks       re-execute every chapter in place (for course authors)"
	@echo "make lint            ruff's lint and format checks, and the chapters' metadata"
	@echo "make format          apply ruff's fixes and format, clean the chapters' metadata"

$(VENV)/.created:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(LEARNER_STAMP): pyproject.toml | $(VENV)/.created
	$(PIP_INSTALL) -e .
	touch $@

$(STAMP): pyproject.toml | $(VENV)/.created
	$(PIP_INSTALL) -e ".[dev]"
	touch $@ $(LEARNER_STAMP)

install: $(STAMP)

lab: $(LEARNER_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=chapters

# The chapters train on the embedded 5,000-digit sample under test, so that the
# run is quick and the same on every machine.
test: $(STAMP)
	LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest tests chapters $(NBVAL)

test-unit: $(STAMP)
	LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest tests --ignore=tests/browser

test-notebooks: $(STAMP)
	LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest chapters $(NBVAL)

test-browser: $(STAMP)
	LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest tests/browser -m browser

train: $(STAMP)
	$(PY) -m lenet_course train

# For course authors: re-execute every chapter in place, as CI will run it,
# then drop what changes from run to run (tools/notebook_hygiene.py).
notebooks: $(STAMP)
	$(PY) tools/run_chapters.py chapters/[0-9]*.ipynb

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/notebook_hygiene.py --check chapters/*.ipynb

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(PY) tools/notebook_hygiene.py chapters/*.ipynb

release: $(STAMP)
	$(PY) -m lenet_course release --out release

SUBMISSIONS ?= submissions
grade: $(STAMP)
	$(PY) -m lenet_course grade $(SUBMISSIONS) --reference chapters --out grading

bench: $(STAMP)
	$(PY) -m lenet_course bench --json bench-results/bench.json

# One report, artifacts/check-gpu/report.md; says so and succeeds where there is no GPU.
check-gpu: $(STAMP)
	$(PY) tools/check_gpu.py

clean:
	rm -rf runs release grading artifacts bench-results .pytest_cache
