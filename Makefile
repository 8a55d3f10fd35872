# The README's two commands: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(PY) scripts/rasa_cli.py
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-quick shell setup prepare ingest train lint benchmark soak load clean browser postgres

## run: set up if needed, then start the action server, Rasa and the widget
run: setup
	$(PY) -m bot.stack run

## test: set up if needed, then lint, Rasa's checks, the test stories and pytest
test: setup lint browser postgres
	$(RASA) data validate --fail-on-warnings
	$(PY) -m bot.stack prepare
	$(RASA) test core --stories tests/stories --model var/models/senbot.tar.gz \
		--fail-on-prediction-errors --out var/results
	$(PY) -m pytest

## test-quick: lint and the tests that start no server, browser or database (a few minutes)
test-quick: setup lint
	$(PY) -m pytest -m "not integration and not browser and not scaled"

## shell: the staff console, talking to the assistant `make run` started
## (`make shell ARGS=--explain` shows why each reply was given)
shell: setup
	@$(PY) -m bot.staff.console $(ARGS)

setup: $(VENV)/.installed-lock

## lint: ruff (rules and formatting) on all the Python, mypy on the core; settings in
## pyproject.toml. `$(VENV)/bin/ruff format .` applies the formatting.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## postgres: Debian's PostgreSQL server binaries for the retention tests, which start a
## throwaway cluster in a temp folder (installed only when no initdb is found)
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)

## browser: Debian's chromium, axe-core and terser for the widget's browser tests, and
## Rasa Webchat and socket.io-client for the socket.io channel's (installed only when
## missing; playwright drives /usr/bin/chromium, no downloads)
AXE_VERSION := 4.14.1
TERSER_VERSION := 5.51.2
WEBCHAT_VERSION := 1.0.1
SOCKETIO_CLIENT_VERSION := 3.1.3
browser:
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	@test -f var/node/node_modules/axe-core/axe.min.js -a -f var/node/node_modules/terser/bin/terser || \
		npm install --no-audit --no-fund --prefix var/node axe-core@$(AXE_VERSION) terser@$(TERSER_VERSION)
	@grep -qs '"version": "$(WEBCHAT_VERSION)"' var/node/node_modules/rasa-webchat/package.json && \
		grep -qs '"version": "$(SOCKETIO_CLIENT_VERSION)"' var/node/node_modules/socket.io-client/package.json || \
		npm install --no-audit --no-fund --ignore-scripts --save-exact --prefix var/node \
			rasa-webchat@$(WEBCHAT_VERSION) socket.io-client@$(SOCKETIO_CLIENT_VERSION)

$(VENV)/.installed-lock: requirements/lock.txt scripts/setup_env.sh
	VENV=$(VENV) scripts/setup_env.sh

prepare ingest train: setup
	$(PY) -m bot.stack prepare

benchmark: setup
	for b in benchmarks/*.py; do case $$b in benchmarks/soak.py|benchmarks/load.py|benchmarks/scaled.py) ;; \
		*) $(PY) $$b || exit 1 ;; esac; done

## soak: the real stack at 10 messages a second for 30 minutes; memory, CPU, errors and
## latency drift (`make soak ARGS=--quick` for 3 minutes). Locust lives in its own
## environment so the project's lock is untouched.
SOAK_VENV := var/tools/soak-venv
LOCUST_VERSION := 2.47.0
soak: setup $(SOAK_VENV)/.installed-locust-$(LOCUST_VERSION)
	$(PY) benchmarks/soak.py $(ARGS)

$(SOAK_VENV)/.installed-locust-$(LOCUST_VERSION):
	$(PY) -m venv $(SOAK_VENV)
	$(SOAK_VENV)/bin/pip install --quiet locust==$(LOCUST_VERSION)
	touch $@

## load: the real stack at 1, 10 and 50 concurrent conversations (60 s each) and one
## 200-turn conversation; msg/s, latency, errors, CPU-ms per message, memory
## (`make load ARGS="--quick --baseline 6671525"` adds a column for that revision).
## It uses soak's locust environment.
load: setup $(SOAK_VENV)/.installed-locust-$(LOCUST_VERSION)
	$(PY) benchmarks/load.py $(ARGS)

clean:
	rm -rf var/models var/index var/results

## run-scaled: Rasa's own scale-out on loopback: N Rasa servers (default 2) and M action
## servers (default 2) on PostgreSQL and Redis, behind nginx on 127.0.0.1:5005, and the
## widget (`make run-scaled N=3`; docs/scaling.md). Data and config in var/scaled/.
.PHONY: run-scaled scaled-tools
N ?= 2
M ?= 2
run-scaled: setup scaled-tools
	$(PY) -m bot.stack run-scaled --rasa $(N) --actions $(M)

## scaled-tools: Debian's postgresql, redis-server and nginx (installed only when missing)
scaled-tools: postgres
	@command -v redis-server >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server nginx)

# The scaled tests (tests/scaled, marker `scaled`) need the three servers.
test: scaled-tools

## scaled-benchmark: msg/s through nginx with 2 Rasa servers against 1 at 50 concurrent
## conversations (`ARGS="--kill-run 180"` adds a run with a server killed midway)
.PHONY: scaled-benchmark
scaled-benchmark: setup scaled-tools
	$(PY) benchmarks/scaled.py $(ARGS)
