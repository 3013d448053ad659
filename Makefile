# claimtrack — `make run` starts the app on the shipped corpus; `make test` runs the tests.
# Both create .venv and install what they need on first use (no network needed afterwards).
# The install includes the `ray` extra so that `make test` runs the Ray backend's tests
# (tests/claimtrack/test_jobs_ray.py, ~40 s) instead of skipping them; the extra adds ~25 s.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export ANONYMIZED_TELEMETRY ?= False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS ?= false

.PHONY: run test test-fast e2e bench install init clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (Python 3.11)"; exit 1; }
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,ray]'
	@touch $(STAMP)

install: $(STAMP)

init: $(STAMP)
	$(BIN)/claimtrack init

# The app and a replication worker (runs the jobs the Replications page queues) side by side;
# Ctrl-C stops both. The worker's log goes to $CLAIMTRACK_HOME/worker.log.
run: init
	@home=$${CLAIMTRACK_HOME:-$$HOME/.claimtrack}; \
	$(BIN)/claimtrack worker > "$$home/worker.log" 2>&1 & wpid=$$!; \
	trap 'kill $$wpid 2>/dev/null' EXIT INT TERM; \
	echo "claimtrack: app on http://127.0.0.1:8501 (worker pid $$wpid, log $$home/worker.log)"; \
	$(BIN)/streamlit run app/streamlit_app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true

test: $(STAMP)
	$(BIN)/python -m pytest tests -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -q -m 'not slow and not network and not gpu and not e2e'

e2e: $(STAMP)
	bash app/e2e/run.sh

bench: $(STAMP)
	@echo "see bench/README.md for each benchmark's command"

clean:
	rm -rf $(VENV) .pytest_cache
