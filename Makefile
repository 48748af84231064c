# Contributor entry points. `make test` is what CI runs (through .ci/run).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup tools demo test lint typecheck clean lock

$(BIN)/python: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/python

setup: $(BIN)/python

demo: setup
	$(BIN)/python scripts/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# The tools the container, GitLab and HTTPS tests need beyond Python (Debian or Ubuntu, as root): each is
# installed only when missing, saying what and why; once all are there this only checks (a few seconds).
tools:
	bash scripts/setup-tools.sh

test: lint typecheck tools
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Regenerate the hash-locked requirements the Dockerfile installs (PyPI only, ignoring local indexes).
LOCK := PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple
lock: setup
	$(LOCK) --output-file requirements/runtime.txt requirements/runtime.in
	$(LOCK) --output-file requirements/build.txt requirements/build.in

# Benchmark against a curl+jq baseline (not part of `make test`); writes bench/RESULTS.md.
.PHONY: bench
bench: setup
	$(BIN)/python bench/run.py

# Long fuzzing profile (>= 10,000 examples per property; figures in tests/hardening/RESULTS.md).
.PHONY: fuzz
fuzz: setup
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/hardening/test_fuzz_github.py tests/hardening/test_fuzz_gitlab.py \
		tests/hardening/test_fuzz_subprocess.py tests/hardening/test_review_round2.py -p no:cacheprovider -q --hypothesis-show-statistics --durations=0

# Regenerate action.yml and the generated tables and examples in README.md and gitlab-component/README.md
# (tests/github/test_units.py and tests/docs check them).
.PHONY: docs
docs: setup
	$(BIN)/python -m enkryptify_action.github.action_yml > action.yml.tmp && mv action.yml.tmp action.yml
	$(BIN)/python -m enkryptify_action.github.action_yml --composite > any-runner/action.yml.tmp \
		&& mv any-runner/action.yml.tmp any-runner/action.yml
	$(BIN)/python scripts/gen_docs.py
