# Every entry point of the project. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Go modules of the workspace (go.work), as package patterns.
MODULES := $(shell go list -m -f '{{.Path}}/...' 2>/dev/null)
GOTEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: up
up: ## install what is missing, start PostgreSQL, Redis, the broker, all services and the gateway; print the URL (http://localhost:8080)
	@scripts/stack.sh up

.PHONY: down
down: ## stop exactly what `make up` started
	@scripts/stack.sh down

.PHONY: status
status: ## show what the local stack runs and whether it is ready
	@scripts/stack.sh status

.PHONY: deps
deps: ## install (apt) and start PostgreSQL and Redis when missing; nginx with njs, wrk, protoc; the frontend's npm packages
	@scripts/deps.sh

.PHONY: build
build: ## build every service and the local broker into .local/bin
	@mkdir -p .local/bin
	go build -o .local/bin/localbroker ./deploy/localbroker
	@for s in identity catalog inventory order payment; do go build -o .local/bin/$$s ./services/$$s/cmd/$$s || exit 1; done

.PHONY: test
test: deps lint lint-api proto-check ## run every test: lint, generated code, unit, integration (real PostgreSQL, Redis, broker) and the stack smoke test
	go test $(GOTEST_FLAGS) $(MODULES)
	scripts/smoke.sh

.PHONY: test-race
test-race: deps ## run every Go test with the race detector
	go test -race $(GOTEST_FLAGS) $(MODULES)

.PHONY: lint
lint: ## gofmt and go vet over every module
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' --cached --others --exclude-standard)); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(MODULES)

.PHONY: lint-api
lint-api: ## lint every service's OpenAPI document (@redocly/cli of frontend/package.json; redocly.yaml says what is left off and why)
	@[ -x frontend/node_modules/.bin/redocly ] || npm ci --prefix frontend
	frontend/node_modules/.bin/redocly lint --config redocly.yaml services/*/api/openapi.yaml

.PHONY: proto
proto: ## regenerate the Go code of the event contract (proto-events/)
	scripts/proto.sh gen

.PHONY: proto-check
proto-check: ## fail when the generated event code is stale
	scripts/proto.sh check

.PHONY: bench
bench: deps ## run every benchmark; each prints its figures beside a baseline measured in the same run
	go run ./scripts/busbench
	go run ./services/identity/cmd/identity-bench
	go run ./services/catalog/cmd/catalog-bench
	go run ./services/inventory/cmd/inventory-bench
	go run ./scripts/gatewaybench
	go run ./scripts/loadgen

.PHONY: bench-bus
bench-bus: deps ## the event-bus benchmark only (outbox → Kafka → idempotent consumer)
	go run ./scripts/busbench

.PHONY: bench-saga
bench-saga: deps ## the whole-saga load generator only (all services as processes, behind the gateway; loadgen -direct bypasses it)
	go run ./scripts/loadgen

.PHONY: bench-gateway
bench-gateway: deps ## the gateway with wrk: product and order reads through it and straight, beside nginx's static-file rate
	go run ./scripts/gatewaybench

.PHONY: clean
clean: down ## stop the stack and delete its state (.local: data, logs, binaries)
	rm -rf .local
