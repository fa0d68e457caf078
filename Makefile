# Helpline — the two commands a newcomer needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DOMAINS := child console
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test deps catalogs extract lint bench browser screenshots clean deploy-check caddy

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed catalogs

## Compile the .po catalogs in git into the .mo files the server reads, and build the pseudo-locale
## (qps, HELPLINE_PSEUDO_LOCALE=1) from the .pot files (ADR 0039).
catalogs: $(VENV)/.installed
	@for d in $(DOMAINS); do $(BIN)/pybabel compile -d locales -D $$d || exit 1; done
	@$(BIN)/python locales/tools/pseudo.py >/dev/null

## Re-extract strings from templates and scripts and merge them into the catalogs.
extract: $(VENV)/.installed
	@for d in $(DOMAINS); do \
	  $(BIN)/pybabel extract -k translate:2 -k t -k _n:1,2 -k translate_plural:2,3 -F locales/$$d.cfg -o locales/$$d.pot --no-location --sort-output . && \
	  $(BIN)/pybabel update -i locales/$$d.pot -d locales -D $$d --no-fuzzy-matching || exit 1; \
	done

## Chromium comes from Debian; the tests drive it with Playwright and never download a browser.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

## Caddy from Debian, for `make deploy-check` (deploy/Caddyfile).
caddy:
	@command -v caddy >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy; fi; }

## coturn from Debian: the voice call tests start their own TURN server (ADR 0033).
coturn:
	@command -v turnserver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn; fi; }

run: deps
	$(BIN)/helpline setup
	$(BIN)/helpline serve

test: deps browser coturn
	$(BIN)/ruff check helpline chat referral stats child_ui counsellor_ui tests benchmarks
	$(BIN)/bandit -q -c pyproject.toml -r helpline chat referral stats child_ui counsellor_ui
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	node --test tests/js/
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --durations=25 --ignore=tests/deploy
	$(MAKE) --no-print-directory deploy-check

## The layout docs/deploy.md documents, end to end from the files in deploy/: Caddy (internal CA) in
## front of two processes on PostgreSQL + Redis, a child and a counsellor in Chromium (about 30 s).
deploy-check: deps browser caddy
	$(BIN)/pytest -q -p no:cacheprovider tests/deploy

lint: deps
	$(BIN)/ruff check helpline chat referral stats child_ui counsellor_ui tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

## The budget runs of docs/performance.md (about 30 minutes; results as JSON in /tmp/helpline-bench-*.json).
bench: deps
	$(BIN)/python benchmarks/load.py --pairs 2000 --rate 1000 --duration 60 --idle 10000 --hold 300 --json /tmp/helpline-bench-budget.json
	$(BIN)/python benchmarks/load.py --pairs 2000 --rate 1000 --duration 60 --idle 10000 --arrivals 1000 --json /tmp/helpline-bench-wave-full.json
	$(BIN)/python benchmarks/load.py --pairs 50 --rate 200 --duration 30 --idle 2000 --arrivals 3000 --arrival-seconds 30 --json /tmp/helpline-bench-wave.json
	@for r in 1000 2000 3000 5000; do \
	  $(BIN)/python benchmarks/load.py --pairs 200 --rate $$r --duration 15 --json /tmp/helpline-bench-knee-$$r.json || exit 1; \
	done
	$(BIN)/python benchmarks/load.py --pairs 100 --rate 500 --duration 15 --backend postgres --workers 1 --json /tmp/helpline-bench-pg-redis.json
	$(BIN)/python benchmarks/load.py --pairs 100 --rate 500 --duration 15 --backend postgres --workers 1 --no-redis --json /tmp/helpline-bench-pg-inprocess.json
	$(BIN)/python benchmarks/load.py --pairs 200 --rate 1000 --duration 15 --backend postgres --workers 2 --idle 500 --arrivals 500 --json /tmp/helpline-bench-pg-2.json
	# issue 21: the production path's budget run beside the same on SQLite, the full-scale 30-s run
	# beside the 60-s one above, capacity by process count, Redis against the in-process broker 5 + 5
	$(BIN)/python benchmarks/load.py --pairs 200 --rate 1000 --duration 15 --idle 1000 --backend postgres --workers 1 --json /tmp/helpline-bench-pg-budget.json
	$(BIN)/python benchmarks/load.py --pairs 200 --rate 1000 --duration 15 --idle 1000 --json /tmp/helpline-bench-sqlite-budget.json
	$(BIN)/python benchmarks/load.py --pairs 2000 --rate 1000 --duration 30 --idle 10000 --json /tmp/helpline-bench-full-30.json
	$(BIN)/python benchmarks/load.py --pairs 500 --rate 500 --duration 75 --json /tmp/helpline-bench-minute-after-sign-in.json
	@for w in 1 2 3 4; do for r in 3000 6000; do \
	  $(BIN)/python benchmarks/load.py --pairs 200 --rate $$r --duration 15 --backend postgres --workers $$w --json /tmp/helpline-bench-cap-$$w-$$r.json || exit 1; \
	done; done
	@for i in 1 2 3 4 5; do \
	  $(BIN)/python benchmarks/load.py --pairs 100 --rate 500 --duration 15 --backend postgres --workers 1 --json /tmp/helpline-bench-redis-$$i.json || exit 1; \
	  $(BIN)/python benchmarks/load.py --pairs 100 --rate 500 --duration 15 --backend postgres --workers 1 --no-redis --json /tmp/helpline-bench-inprocess-$$i.json || exit 1; \
	done

## Screenshots of every child screen at 320 px, both locales, into docs/screenshots/ (they are committed).
screenshots: deps browser
	rm -f docs/screenshots/*.png
	HELPLINE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser/test_child_screenshots.py -k sqlite

clean:
	rm -rf $(VENV) node_modules locales/*/LC_MESSAGES/*.mo
