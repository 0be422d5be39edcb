# Two set-up commands for a fresh machine: `make demo` and `make test`. Everything generated at run
# time (virtual environment aside) lives under .studio/, which git ignores.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export STUDIO_HOME ?= $(CURDIR)/.studio
export DAGSTER_HOME ?= $(STUDIO_HOME)/dagster

.PHONY: demo test bench webserver daemon serve up stop dagster-home browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set Python never caches it
# either: every start would compile the project from source (~0.1 s of the review service's start).
# A stale file is ignored (Python checks the source's mtime), so this only ever saves work.
PACKAGES := anime_assets resources sensors jobs comfy_graphs api studio

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	$(BIN)/python -m compileall -q $(PACKAGES)
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
	$(BIN)/pytest -m "not fault"
	$(BIN)/pytest -m fault || test $$? -eq 5

bench: $(VENV)/.installed-test dagster-home
	command -v wrk > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }
	$(BIN)/python -m bench.run_all

webserver: dagster-home
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p $${STUDIO_WEBSERVER_PORT:-3000}

# Runs launched from the UI or the review service's runs API wait in the queue until the daemon takes them.
daemon: dagster-home
	$(BIN)/dagster-daemon run -w workspace.yaml

serve: dagster-home
	$(BIN)/studio serve

# Everything at once: the code location as its own gRPC code server, the webserver, the daemon and the
# review service, logs prefixed per service; Ctrl-C stops all of them. Ports: STUDIO_*_PORT.
up: $(VENV)/.installed
	$(BIN)/studio up

# Stops what `make up` started and the embedded PostgreSQL (which otherwise outlives its processes).
stop:
	test ! -x $(BIN)/studio || $(BIN)/studio stop

# Refuses while services run; asks before deleting human review decisions (CLEAN_ARGS=--yes for scripts).
clean:
	test ! -x $(BIN)/studio || $(BIN)/studio clean $(CLEAN_ARGS)
	test -x $(BIN)/studio || rm -rf $(STUDIO_HOME)
