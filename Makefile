# LeNet-5, built step by step: the commands a learner or instructor needs.
# `make lab` and `make test` create .venv and install the course on first use.

PYTHON ?= python3
# LOCK=1 (the default) installs the exact versions the course is tested with,
# from requirements-lock.txt; LOCK=0 installs the newest versions that
# pyproject.toml's ranges allow, into a separate .venv-latest, re-resolved
# on every run (`make test LOCK=0`).
LOCK ?= 1
LOCKFILE := requirements-lock.txt
ifeq ($(LOCK),0)
VENV ?= .venv-latest
else
VENV ?= .venv
endif
PY := $(VENV)/bin/python
# Two installs: what a learner needs (the course, JupyterLab, widgets), and
# that plus the test and lint tools. Each is redone when pyproject.toml or the
# lock file changes.
LEARNER_STAMP := $(VENV)/.installed-learner
STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(PY) -m pip install --quiet
ifeq ($(LOCK),0)
PIP_INSTALL += --upgrade --upgrade-strategy eager
INSTALL_DEPS := pyproject.toml FORCE
else
PIP_INSTALL += -c $(LOCKFILE)
INSTALL_DEPS := pyproject.toml $(LOCKFILE)
endif
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with lenet_course/instructor/nbval_sanitize.cfg

.PHONY: help install lab lab-solutions test test-unit test-notebooks test-browser lint format train notebooks release grade bench check-gpu book lock clean FORCE

help:
	@echo "make lab             open your workbook in JupyterLab (creates .venv and workbook/ on first use)"
	@echo "make lab-solutions   open the chapters with their worked solutions (chapters/)"
	@echo "make test            run every test: unit tests, all chapters with nbval, browser tests"
	@echo "make train           train LeNet-5 from the command line (results in runs/lenet5)"
	@echo "make release         write the learner version of the chapters into release/"
	@echo "make grade           grade learners' notebooks in submissions/ (SUBMISSIONS=folder)"
	@echo "make bench           compare the seed article's pipeline with the course's fast path"
	@echo "make check-gpu       on a machine with a CUDA GPU: CUDA tests, every chapter on the GPU, a quick bench"
	@echo "make test-browser    only the JupyterLab-in-Chromium tests"
	@echo "make notebooks       re-execute every chapter in place (for course authors)"
	@echo "make book            render every chapter into a static site, book/_build/html/index.html"
	@echo "make lint            ruff's lint and format checks, and the chapters' metadata"
	@echo "make format          apply ruff's fixes and format, clean the chapters' metadata"
	@echo "make lock            refresh requirements-lock.txt from a fresh install of the newest versions"
	@echo "make test LOCK=0     test against the newest versions pyproject.toml allows (in .venv-latest)"

$(VENV)/.created:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(LEARNER_STAMP): $(INSTALL_DEPS) | $(VENV)/.created
	$(PIP_INSTALL) -e .
	touch $@

$(STAMP): $(INSTALL_DEPS) | $(VENV)/.created
	$(PIP_INSTALL) -e ".[dev]"
	touch $@ $(LEARNER_STAMP)

install: $(STAMP)

# Your workbook: workbook/ gets the learner version of every chapter on first
# use; later runs add new chapters and never overwrite one you changed.
# LAB_ARGS=--prepare-only writes or updates it without starting JupyterLab.
lab: $(LEARNER_STAMP)
	$(PY) -m lenet_course lab $(LAB_ARGS)

lab-solutions: $(LEARNER_STAMP)
	$(PY) -m lenet_course lab --solutions $(LAB_ARGS)

# The chapters train on the embedded 5,000-digit sample under test, so that the
# run is quick and the same on every machine.
test: $(STAMP)
	LENET_COURSE_LOCK=$(LOCK) LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest tests chapters $(NBVAL)

test-unit: $(STAMP)
	LENET_COURSE_LOCK=$(LOCK) LENET_COURSE_OFFLINE=1 LENET_COURSE_DATA=sample $(PY) -m pytest tests --ignore=tests/browser

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

# The course as a static site, from the committed outputs: nothing is executed.
book: $(STAMP)
	$(PY) book/build.py

# For course authors: record the newest versions the ranges allow, installed
# in a fresh environment, as the tested versions; then `make notebooks` and
# `make test` with them, and commit the lock file with the chapters.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e ".[dev]"
	$(LOCK_VENV)/bin/python tools/lock.py --python $(LOCK_VENV)/bin/python --out $(LOCKFILE)
	rm -rf $(LOCK_VENV)

FORCE:

# One report, artifacts/check-gpu/report.md; says so and succeeds where there is no GPU.
check-gpu: $(STAMP)
	$(PY) tools/check_gpu.py

clean:
	rm -rf runs release grading artifacts bench-results .pytest_cache book/_build
