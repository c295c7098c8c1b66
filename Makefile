# Lantern: `make up` runs the platform, `make test` runs the whole suite. Both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
RUN := source var/services.env &&

.PHONY: help install tools services migrate up test bench key clean

help:
	@echo "make up     install what is missing, prepare the database, run web + worker + scheduler"
	@echo "make test   install what is missing and run the whole test suite"
	@echo "make bench  run the benchmarks in bench/ and print their figures"

install:
	@bash scripts/install.sh

tools:
	@bash scripts/install-engines.sh

services: install
	@.venv/bin/python scripts/services.py

migrate: services
	@$(RUN) DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py migrate --noinput -v0

up: install tools migrate
	@$(RUN) export DJANGO_SETTINGS_MODULE=config.settings.local && \
	  .venv/bin/python manage.py demo_tenant && \
	  exec .venv/bin/python scripts/run_stack.py

test: install tools services
	@bash scripts/install-test-tools.sh
	@$(RUN) bash scripts/test.sh $(ARGS)

bench: install tools migrate
	@$(RUN) bash scripts/bench.sh

key: migrate
	@$(RUN) DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py create_api_key --tenant demo

clean:
	rm -rf .venv var
