# CyberCantal — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
export PORT

.PHONY: run test lint format bench setup db demo clean

# Create the virtualenv and install the pinned dependencies (again only when they change).
$(STAMP): requirements/base.txt requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# Migrate SQLite, load the Cantal and the demo data (idempotent).
db: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_territory 15

demo: db
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_coworking_activity
	$(BIN)/python manage.py seed_mediation_activity
	$(BIN)/python manage.py seed_telehealth_demo

run: demo
	bash scripts/run.sh

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# django-appointment, which bench/bench_booking.py compares the booking engine with, lives in a
# virtualenv of its own (var/bench-venv, requirements/bench.txt), never in .venv: it is no
# dependency of CyberCantal. Offline, the comparison is skipped and said so. BENCH=booking
# runs one benchmark; DATABASE_URL=postgres://… runs them on PostgreSQL.
BENCH_VENV := var/bench-venv
$(BENCH_VENV)/.installed-stamp: requirements/bench.txt
	( test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV) ) \
	  && $(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $< \
	  && touch $@ \
	  || echo "django-appointment non installé : la comparaison sera sautée."

bench: $(STAMP) $(BENCH_VENV)/.installed-stamp
	BENCH_APPOINTMENT_PYTHON=$(BENCH_VENV)/bin/python $(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) var .pytest_cache
