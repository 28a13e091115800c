# Thin wrapper over npm scripts and scripts/ (docs/architecture.md §10).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help install build lint typecheck test test-unit services up down bench clean

help:
	@echo "make install   install dependencies (npm ci) and build (tsc -b)"
	@echo "make up        start every role in the background (logs and pids in ./.run/)"
	@echo "make down      stop what 'make up' started"
	@echo "make test      lint, type check, unit, integration and end-to-end tests"
	@echo "make bench     benchmarks, our figure beside the reference measured in the same run"

# tsc writes the `stacklink` bin (libs/cli) without the executable bit npx needs.
install:
	npm ci
	npx tsc -b
	chmod +x libs/cli/dist/src/main.js

build:
	npx tsc -b
	chmod +x libs/cli/dist/src/main.js

typecheck: build

lint:
	npx eslint --max-warnings 0 .
	npx prettier --check .

# RabbitMQ and Redis on loopback: started from the machine's packages when installed but not running.
services:
	@scripts/ensure-services.sh

test: services
	@test -d node_modules || { echo "node_modules missing: run 'make install' first" >&2; exit 1; }
	npx tsc -b
	$(MAKE) --no-print-directory lint
	npm test --silent

test-unit: build
	npm run test:unit --silent

up: services build
	@scripts/up.sh

down:
	@scripts/down.sh

bench: services build
	@node bench/run.js

clean:
	npx tsc -b --clean
