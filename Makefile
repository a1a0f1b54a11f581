# Every entry point of the project. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Go modules of the workspace (go.work), as package patterns.
MODULES := $(shell go list -m -f '{{.Path}}/...' 2>/dev/null)
GOTEST_FLAGS ?= -count=1 -timeout 20m
# The deployment checks (deploy/validate) are a module outside the workspace:
# their dependencies (Kubernetes API types, compose-go, BuildKit) would
# otherwise raise versions the services build with.
VALIDATE := cd deploy/validate && GOWORK=off
# compose: `docker compose` (or COMPOSE="podman compose"); SECURE=1 adds SASL.
COMPOSE ?= docker compose
COMPOSE_FILES = -f deploy/compose/compose.yaml $(if $(SECURE),-f deploy/compose/compose.secure.yaml)

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: up
up: ## install what is missing, build the apps, start PostgreSQL, Redis, the broker, all services and the gateway; print the URL (http://localhost:8080)
	@scripts/web.sh build
	@scripts/stack.sh up

.PHONY: down
down: ## stop exactly what `make up` started
	@scripts/stack.sh down

.PHONY: status
status: ## show what the local stack runs and whether it is ready
	@scripts/stack.sh status

.PHONY: logs
logs: ## follow every process of `make up` merged in time order; ORDER=<id>: one order's path through all services
	@go run ./scripts/logs $(if $(ORDER),-order $(ORDER))

.PHONY: deps
deps: ## install (apt) and start PostgreSQL and Redis when missing; nginx with njs, wrk, protoc; the frontend's npm packages
	@scripts/deps.sh

.PHONY: build
build: ## build every service and the local broker into .local/bin
	@mkdir -p .local/bin
	go build -o .local/bin/localbroker ./deploy/localbroker
	@for s in identity catalog inventory order payment; do go build -o .local/bin/$$s ./services/$$s/cmd/$$s || exit 1; done

.PHONY: test
test: deps lint lint-api proto-check ## run every test: lint, API documents, generated code, unit, integration (real PostgreSQL, Redis, broker), a short fuzz run, the short fault suite, the frontend, deployment files and the stack smoke test
	go test $(GOTEST_FLAGS) $(MODULES)
	scripts/fuzz.sh
	go run ./scripts/loadgen -faults short
	scripts/web.sh test
	@$(MAKE) --no-print-directory test-deploy
	scripts/smoke.sh

.PHONY: fuzz
fuzz: deps ## run every Go fuzz target for FUZZTIME each (default 1m; `make test` runs them for a few seconds); failing inputs land in testdata/fuzz/
	FUZZTIME=$${FUZZTIME:-1m} scripts/fuzz.sh

.PHONY: obs-up
obs-up: ## start Prometheus (Debian package) scraping the local stack of make up, with the alert rules of compose and the chart; print its URL
	@scripts/obs.sh up

.PHONY: obs-down
obs-down: ## stop the Prometheus of make obs-up
	@scripts/obs.sh down

.PHONY: test-web
test-web: ## the frontend's tests: npm ci, typecheck, component tests (Vitest), build, browser tests (Chromium, own stack)
	scripts/web.sh test

.PHONY: dev-web
dev-web: ## Vite's dev server for the storefront against the running stack (make up; SHOP_GATEWAY_URL)
	scripts/web.sh dev

.PHONY: dev-admin
dev-admin: ## Vite's dev server for the admin app (http://127.0.0.1:5174/admin/) against the running stack
	scripts/web.sh dev-admin

.PHONY: test-deploy
test-deploy: ## check the images, compose stack and Helm chart offline (builds Helm into .bin the first time)
	@deploy/validate/helm.sh >/dev/null
	$(VALIDATE) go test $(GOTEST_FLAGS) ./...

.PHONY: test-race
test-race: deps ## run every Go test with the race detector
	go test -race $(GOTEST_FLAGS) $(MODULES)

.PHONY: lint
lint: ## gofmt and go vet over every module
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' --cached --others --exclude-standard)); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(MODULES)
	$(VALIDATE) go vet ./...

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
	go run ./scripts/bench/identity
	go run ./scripts/bench/catalog
	go run ./scripts/bench/inventory
	go run ./scripts/gatewaybench
	go run ./scripts/loadgen
	@$(MAKE) --no-print-directory capacity

.PHONY: capacity
capacity: deps ## the capacity report: pgbench TPC-B, a ramp of customers until saga p99 passes 1 s, a flash sale (1,000 customers, 100 units); Markdown and plots in .local/reports/
	go run ./scripts/loadgen -capacity -history 10000

.PHONY: chaos
chaos: deps ## the fault suite under load (kill -9, replicas, broker, PostgreSQL, Redis, rebalance, duplicates, poison, delay; then mixed from a seed, SEED= to replay); invariants after each
	go run ./scripts/loadgen -faults long $(if $(SEED),-seed $(SEED))

.PHONY: chaos-short
chaos-short: deps ## the short fault suite (each fault once, what `make test` runs)
	go run ./scripts/loadgen -faults short

.PHONY: bench-bus
bench-bus: deps ## the event-bus benchmark only (outbox → Kafka → idempotent consumer)
	go run ./scripts/busbench

.PHONY: bench-catalog
bench-catalog: deps ## the catalog benchmark only (HTTP reads and search over 100,000 products; TREE=dir measures another source tree's catalog)
	go run ./scripts/bench/catalog $(if $(TREE),-tree $(TREE))

.PHONY: bench-inventory
bench-inventory: deps ## the inventory benchmark only (reservations/s through the broker beside pgbench; TREE=dir measures another source tree's inventory)
	go run ./scripts/bench/inventory $(if $(TREE),-tree $(TREE))

.PHONY: bench-saga
bench-saga: deps ## the whole-saga load generator only (all services as processes, behind the gateway; loadgen -direct bypasses it)
	go run ./scripts/loadgen

.PHONY: bench-gateway
bench-gateway: deps ## the gateway with wrk: product and order reads through it and straight, beside nginx's static-file rate
	go run ./scripts/gatewaybench

.PHONY: images
images: ## build the service and gateway images with Docker or Podman (VERSION=, IMAGE_PREFIX=)
	@deploy/docker/images.sh

.PHONY: compose-up
compose-up: ## start the compose stack (Redpanda, PostgreSQL, Redis, the services, the gateway on :8080); SECURE=1 for SASL; OBS=1 adds Prometheus, Grafana, Loki, Jaeger
	@test -f deploy/compose/.env || cp deploy/compose/.env.example deploy/compose/.env
	$(if $(OBS),OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318) $(COMPOSE) --project-directory deploy/compose $(COMPOSE_FILES) $(if $(OBS),--profile obs) up -d --build --wait
	@echo "shop: http://localhost:8080 (Redpanda Console: http://localhost:8090)"
	@$(if $(OBS),echo "Grafana: http://localhost:3000  Prometheus: http://localhost:9090  Jaeger: http://localhost:16686")

.PHONY: compose-down
compose-down: ## stop the compose stack; its data volumes stay (VOLUMES=1 deletes them)
	$(COMPOSE) --project-directory deploy/compose $(COMPOSE_FILES) --profile obs down $(if $(VOLUMES),--volumes)

.PHONY: clean
clean: down ## stop the stack and delete its state (.local: data, logs, binaries)
	rm -rf .local
