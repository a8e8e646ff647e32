# The two commands: `make run` (set up, then serve the demo at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PLOTLY_JS := static/vendor/plotly.min.js
export PYTHONDONTWRITEBYTECODE := 1
# The OpenBLAS kernel the reference scores were computed with (see evaluators/runtime.py); only where the CPU has AVX2.
ifneq ($(shell grep -m1 -o -w avx2 /proc/cpuinfo 2>/dev/null),)
export OPENBLAS_CORETYPE ?= Haswell
endif

.PHONY: setup run test lint typecheck pytest browser sandbox demo bench clean

# Last, the project itself (editable, no dependencies, with the pinned setuptools): the `dataperf` command.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# plotly.js comes from the pinned plotly package (PyPI), never from a CDN.
$(PLOTLY_JS): $(BIN)/.installed
	mkdir -p static/vendor
	cp "$$($(BIN)/python -c 'import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js")')" $@

setup: $(BIN)/.installed $(PLOTLY_JS) sandbox

# bubblewrap: the sandbox that reruns closed-division code (Debian package).
sandbox:
	bash scripts/ensure_bubblewrap.sh

browser:
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_axe.sh

run: setup
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py setup_demo
	DEBUG=1 $(BIN)/python -m scripts.run_all

demo: setup
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py setup_demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	SECRET_KEY=typecheck $(BIN)/mypy .

# The tests that start no process run on two xdist workers (a file's tests on one worker: module fixtures and the
# benchmarks' shared database stay together); those that start workers, servers or a browser (marker e2e) run
# after, alone, as their timings assume, with those xdist cannot distribute (marker serial). Both halves run even
# when the first fails.
pytest: setup browser
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e and not serial"; first=$$?; \
	$(BIN)/python -m pytest -m "e2e or serial"; second=$$?; \
	exit $$(( first || second ))

test: lint typecheck pytest

# The platform's own benchmarks (README, "Benchmarks of the platform itself"): all, or `make bench BENCH=leaderboard`
# (evaluators, memory, leaderboard, submit). wrk and nginx come from Debian's packages; PostgreSQL and Redis must
# run locally (BENCH_DATABASE_URL, BENCH_BROKER_URL say where).
bench: setup
	bash scripts/ensure_bench_tools.sh
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf var/test .mypy_cache .ruff_cache .pytest_cache
