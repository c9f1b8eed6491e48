# hotline1999 — the two commands a newcomer needs:
#   make run    install what is needed, then run Asterisk and the engine (foreground)
#   make test   install what is needed, then run the whole test suite
SHELL := /bin/bash
# Debian's own python3: the interpreter the hotline runs on, built by Debian with
# profile-guided optimisation. A python3 that comes first on PATH (pyenv, another
# virtualenv) is used only when asked for: make PYTHON=python3.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV := .venv
BIN := $(VENV)/bin
STATE_DIR ?= /var/lib/hotline1999
DEBIAN_PACKAGES := python3-venv debootstrap sip-tester espeak-ng sox postgresql fail2ban chromium-headless-shell fonts-wqy-microhei baresip-core

.PHONY: FORCE run test check lint typecheck deps system-deps venv asterisk prompts clean bench soak

run: deps asterisk
	$(BIN)/ivr --state-dir $(STATE_DIR) run

# Each worker starts its own private stacks (ports and state directories are picked
# per stack), so real-call tests run side by side; a file's tests stay on one worker
# because several modules share one module-scoped stack. Files go out longest first,
# those that wait on calls merged with those that compute (tests/durations.json,
# bench.suite_timeline.run_order; xdist's own order puts the files with most tests first).
# On a 2-core machine eight workers keep both cores busy: the real-call tests mostly
# wait, the browser and store tests do not (bench/README.md has the figures).
# Bytecode is cached even where the environment says not to: without it every worker
# and every engine or CLI started by a test compiles the code and rewrites the test
# modules' asserts again (about 11 s of CPU per worker and 0.5 s per process).
TEST_WORKERS ?= 8
test: deps asterisk check
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder --durations=25

check: lint typecheck

lint:
	$(BIN)/ruff format --check ivr tests bench
	$(BIN)/ruff check ivr tests bench

typecheck:
	$(BIN)/mypy ivr

deps: system-deps venv

# Debian packages: python3-venv (Debian's python3 makes no venv without it), SIPp
# (sip-tester), debootstrap for the Asterisk root, the TTS
# voice and sox for prompts, PostgreSQL for the store tests, fail2ban (its
# fail2ban-regex tests the shipped SIP filter), Chromium's headless shell for the
# console's browser tests (Playwright drives it; no browser is downloaded) and a CJK font, so its
# screenshots show Chinese. Installed once.
system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: installing $$missing needs root"; exit 1; fi; \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(BIN)/ivr
# The venv is made again when pyproject.toml changes or when PYTHON names another
# interpreter than the one it was made from (.interpreter holds its real path).
$(VENV)/.interpreter: FORCE
	@mkdir -p $(VENV)
	@want="$$(readlink -f "$$(command -v $(PYTHON))")"; \
	  [ "$$(cat $@ 2>/dev/null)" = "$$want" ] || echo "$$want" > $@
$(BIN)/ivr: pyproject.toml $(VENV)/.interpreter
	$(PYTHON) -m venv --clear $(VENV)
	readlink -f "$$(command -v $(PYTHON))" > $(VENV)/.interpreter
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Uses an `asterisk` on PATH, or builds (once) and reuses a cached Debian sid root.
asterisk: venv
	$(BIN)/ivr asterisk install

bench: deps asterisk
	$(BIN)/python -m bench.run

# Not in CI: a steady load of calls for MINUTES on a private stack, then the engine's
# RSS at start and end. `make soak MINUTES=60`.
MINUTES ?= 10
soak: deps asterisk
	$(BIN)/python -m tests.soak --minutes $(MINUTES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
