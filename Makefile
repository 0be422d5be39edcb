# Two set-up commands for a fresh machine: `make demo` and `make test`. Everything generated at run
# time (virtual environment aside) lives under .studio/, which git ignores.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export STUDIO_HOME ?= $(CURDIR)/.studio
export DAGSTER_HOME ?= $(STUDIO_HOME)/dagster

.PHONY: demo test bench webserver daemon serve dagster-home browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

# The review page is tested in Debian's Chromium, driven by Playwright's Python package (which never
# downloads a browser of its own here). Installing system packages needs root, as on CI.
browser:
	command -v chromium > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

# Initialise the instance once (storage in the embedded PostgreSQL, the GPU pool), before several
# processes race to create its schema.
dagster-home: $(VENV)/.installed
	$(BIN)/studio dagster-init

demo: dagster-home
	$(BIN)/studio demo

test: $(VENV)/.installed-test browser
	$(BIN)/pytest

bench: $(VENV)/.installed-test dagster-home
	command -v wrk > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }
	$(BIN)/python -m bench.run_all

webserver: dagster-home
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000

# Runs launched from the UI or the review service's runs API wait in the queue until the daemon takes them.
daemon: dagster-home
	$(BIN)/dagster-daemon run -w workspace.yaml

serve: dagster-home
	$(BIN)/studio serve

# The embedded PostgreSQL outlives the processes that start it: stop it before removing its folder.
clean:
	test ! -x $(BIN)/python || $(BIN)/python -c 'import sys, pathlib; from studio.db.embedded import stop_embedded_server; stop_embedded_server(pathlib.Path(sys.argv[1]))' $(STUDIO_HOME)/pg
	rm -rf $(STUDIO_HOME)
