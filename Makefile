# LoyaltyLab: `make run` serves the app with a demo study, `make test` runs the checks and the
# whole suite, cross-checks included.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
DEPS    := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP   := $(VENV)/.installed-$(DEPS)
CROSSCHECK_STAMP := $(VENV)/.crosscheck-$(DEPS)
HOST    ?= 127.0.0.1
PORT    ?= 8000

# Debian packages the project needs: Chromium for browser tests, Pango for PDF reports,
# a CJK font for Chinese text in PDFs and charts, poppler to check the PDFs.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
SYSTEM_CHECKS   := test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
	&& ldconfig -p | grep -q libpango-1.0 && command -v pdftotext >/dev/null

.PHONY: setup system-packages run test test-fast lint format clean

setup: system-packages $(STAMP)

$(STAMP):
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	@test -d $(VENV) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The reference libraries of tests/crosscheck (pingouin, semopy, statsmodels, pyxform): only the
# tests need them, so `make run` goes without and `make test` installs them.
$(CROSSCHECK_STAMP): $(STAMP)
	$(PYTHON) -m pip install --quiet -e '.[dev,crosscheck]'
	@rm -f $(VENV)/.crosscheck-*
	@touch $@

system-packages:
	@if $(SYSTEM_CHECKS); then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Installing system packages: $(SYSTEM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "Missing system packages. Run once:"; \
		echo "  sudo apt-get install -y $(SYSTEM_PACKAGES)"; \
		exit 1; \
	fi

run: setup
	$(VENV)/bin/loyaltylab migrate
	$(VENV)/bin/loyaltylab demo
	@echo
	@echo "  LoyaltyLab is starting on http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	@echo
	$(VENV)/bin/loyaltylab serve --host $(HOST) --port $(PORT)

# LOYALTYLAB_REQUIRE_CROSSCHECK: a missing reference library fails the cross-checks instead of
# skipping them.
test: setup $(CROSSCHECK_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	LOYALTYLAB_REQUIRE_CROSSCHECK=1 $(VENV)/bin/pytest -n auto -p no:cacheprovider

# The suite without the tests marked slow (browser, live servers and subprocesses, bootstraps,
# cross-checks): a minute or two while working; `make test` before pushing.
test-fast: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n auto -p no:cacheprovider -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache .mypy_cache
