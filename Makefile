# The README's commands. Everything a fresh machine needs is installed by these targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup system-deps lint test test-fast bench clean plan golden constraints schema

setup: $(STAMP)

$(STAMP): constraints.txt requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	# compat: the editable install is one path line in a .pth file; setuptools' default import
	# finder costs ~14 ms at every start of the airlock command (README, Performance).
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt \
		--config-settings editable_mode=compat -e .
	touch $(STAMP)

# Re-pin constraints.txt from a fresh environment of the current ranges and dev tools.
constraints:
	rm -rf .constraints-venv && python3 -m venv .constraints-venv
	.constraints-venv/bin/pip install --quiet --disable-pip-version-check -r <(grep -v '^-c' requirements-dev.txt) .
	{ sed -n '1,3p' constraints.txt; .constraints-venv/bin/pip freeze --exclude airlock; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .constraints-venv

# Debian packages the real-system tests start on 127.0.0.1 (registry, skopeo, ...).
system-deps:
	bash scripts/install-system-deps.sh

# actionlint (from requirements-dev.txt) checks .github/workflows/ and fails on any finding,
# deprecated action runtimes included; it runs shellcheck (a Debian package, system-deps) on
# every run: script. Without shellcheck on PATH it would skip those silently, so it is required.
lint: setup system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy components/airlock
	command -v shellcheck >/dev/null || { echo "shellcheck is missing: make system-deps" >&2; exit 1; }
	$(VENV)/bin/actionlint

test: setup system-deps lint
	$(VENV)/bin/pytest

# Unit tests only: no real servers, no 100k-input property run.
test-fast: setup
	$(VENV)/bin/pytest -m "not slow and not realserver"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

STACKS := dev staging prod

plan: setup
	$(VENV)/bin/airlock plan --stack dev

# Regenerate the reviewed golden plans (tests/golden/<stack>.json); review the diff like code.
golden: setup
	for stack in $(STACKS); do $(VENV)/bin/airlock plan --stack $$stack --format json --out tests/golden/$$stack.json || exit 1; done

# The component package: argument types from the settings models, then provider/schema.json as
# Pulumi's analyzer infers it (in-process, no Pulumi CLI). Both are committed; a test fails on drift.
schema: setup
	$(PY) -m airlock.package --out provider/schema.json

# Benchmarks print numbers (ratios against references measured in the same run).
bench: setup system-deps
	$(VENV)/bin/python bench/plan_bench.py
	$(VENV)/bin/python bench/copy_bench.py
	$(VENV)/bin/python bench/mirror_bench.py
