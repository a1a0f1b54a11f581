# Every entry point of the project. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Go modules of the workspace (go.work), as package patterns.
MODULES := $(shell go list -m -f '{{.Path}}/...' 2>/dev/null)
GOTEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: up
up: ## install what is missing, build the storefront, start PostgreSQL, Redis, the broker and all services; print the URLs
	@scripts/web.sh build
	@scripts/stack.sh up

.PHONY: down
down: ## stop exactly what `make up` started
	@scripts/stack.sh down

.PHONY: status
status: ## show what the local stack runs and whether it is ready
	@scripts/stack.sh status

.PHONY: deps
deps: ## install (apt) and start PostgreSQL and Redis when missing, and protoc
	@scripts/deps.sh

.PHONY: build
build: ## build every service and the local broker into .local/bin
	@mkdir -p .local/bin
	go build -o .local/bin/localbroker ./deploy/localbroker
	@for s in identity catalog inventory order payment; do go build -o .local/bin/$$s ./services/$$s/cmd/$$s || exit 1; done

.PHONY: test
test: deps lint proto-check ## run every test: lint, generated code, unit, integration (real PostgreSQL, Redis, broker), the frontend and the stack smoke test
	go test $(GOTEST_FLAGS) $(MODULES)
	scripts/web.sh test
	scripts/smoke.sh

.PHONY: test-web
test-web: ## the frontend's tests: npm ci, typecheck, component tests (Vitest), build, browser tests (Chromium, own stack)
	scripts/web.sh test

.PHONY: dev-web
dev-web: ## Vite's dev server for the storefront against the running stack (make up; SHOP_GATEWAY_URL)
	scripts/web.sh dev

.PHONY: test-race
test-race: deps ## run every Go test with the race detector
	go test -race $(GOTEST_FLAGS) $(MODULES)

.PHONY: lint
lint: ## gofmt and go vet over every module
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' --cached --others --exclude-standard)); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(MODULES)

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
	go run ./scripts/loadgen

.PHONY: bench-bus
bench-bus: deps ## the event-bus benchmark only (outbox → Kafka → idempotent consumer)
	go run ./scripts/busbench

.PHONY: bench-saga
bench-saga: deps ## the whole-saga load generator only (all services as processes)
	go run ./scripts/loadgen

.PHONY: clean
clean: down ## stop the stack and delete its state (.local: data, logs, binaries)
	rm -rf .local
