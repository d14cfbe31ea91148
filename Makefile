# offsetlab: the workshop interface. `make help` lists the targets.
SHELL := bash
GO ?= go
BIN := bin
TOPIC ?= orders
GROUP ?= workshop
COUNT ?= 300
RESET ?= earliest
PROTOCOL ?= both
COMMIT ?= auto
FUZZTIME ?= 60s
SOAK ?= scenarios/soak/soak.txtar
# Packages whose concurrency `make test` checks with the race detector. The
# others run with -parallel 3: the scenario tests mostly wait on sessions and
# process delays, and three at a time stays deterministic on 2 cores (as
# `scenarios run`'s default --parallel, cores + 1).
RACE_PKGS := ./internal/ledger ./internal/supervisor ./internal/consumer ./internal/scenario ./internal/poll
# Each fuzz target, as package:Fuzz function; `make fuzz` runs them in turn.
FUZZ_TARGETS := internal/serde:FuzzSplitHeader internal/serde:FuzzDecode internal/datagen:FuzzNew \
	internal/config:FuzzReadProperties internal/scenario:FuzzParse internal/offsetstopic:FuzzDecode

.DEFAULT_GOAL := help
.PHONY: help demo playground stack-stop test examples scenarios-kafka bench soak fuzz build stack produce consume offsets scenarios scenario exercises exercise up down fmt vet clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  Variables: TOPIC=$(TOPIC) GROUP=$(GROUP) COUNT=$(COUNT) RESET=$(RESET) COMMIT=$(COMMIT) PROTOCOL=$(PROTOCOL)"
	@echo "  e.g. make consume GROUP=g1 RESET=latest COMMIT=sync"

demo: build ## produce, consume in a group, show the committed offsets (embedded stack)
	@scripts/demo.sh $(BIN)

playground: build ## leave a stack running and GROUP with committed offsets and lag on TOPIC, to explore (make stack-stop ends it)
	@scripts/playground.sh $(BIN) $(TOPIC) $(GROUP)

stack-stop: ## stop the stack make playground left running
	@if [ -f $(BIN)/stack.pid ] && kill $$(cat $(BIN)/stack.pid) 2>/dev/null; then rm -f $(BIN)/stack.pid; echo "stack stopped"; \
	else rm -f $(BIN)/stack.pid; echo "no stack left running by make playground"; fi

test: ## vet and run every test, end to end against embedded stacks (the concurrent packages under -race)
	@$(GO) vet ./...
	@$(GO) test -count=1 -race $(RACE_PKGS) & race=$$!; \
	$(GO) test -count=1 -parallel 3 $$($(GO) list ./... | grep -v -x -F $(addprefix -e github.com/offsetlab/offsetlab/,$(RACE_PKGS:./%=%))); rc=$$?; \
	wait $$race && exit $$rc

examples: ## the suite against every consumer in examples/ (Python, Node, kcat; correct and broken): each must get its verdict
	@set -o pipefail; OFFSETLAB_EXAMPLES=1 $(GO) test -count=1 -run TestExamples -v ./internal/scenarios/ 2>&1 | grep -E '^\s*(---|ok|FAIL|PASS)|examples_test'

bench: ## producer and consumer throughput vs plain clients; verification speed and memory at 1M and 10M records; the catalog's wall time and kill-to-resume
	$(GO) test -run '^$$' -bench . -benchtime 200000x -count 1 ./internal/producer ./internal/consumer
	$(GO) test -run '^$$' -bench Account -benchtime 3x -count 1 ./internal/verify
	$(GO) test -run '^$$' -bench Catalog -benchtime 1x -count 1 ./internal/scenarios

soak: build ## SOAK (ten million records, 12 partitions, three consumers, twelve kill -9 over the run): each step's time and the runner's memory; not in make test (SOAK=scenarios/soak/soak-1m.txtar: a million)
	$(BIN)/scenarios run $(SOAK) --protocol classic --stats

fuzz: ## run each fuzz target for FUZZTIME (60s): wire format, datagen schemas, properties files, scenario scripts, __consumer_offsets
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} ./$${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./$${t%%:*}; \
	done

build: ## build the commands into bin/
	@$(GO) build -o $(BIN)/ ./stack ./producer ./consumer ./offsets ./scenarios

stack: build ## run the embedded broker (9092) and schema registry (8081) until Ctrl-C
	@$(BIN)/stack

produce: build ## produce COUNT records to TOPIC
	@$(BIN)/producer --topic $(TOPIC) --count $(COUNT)

consume: build ## consume TOPIC in GROUP with RESET and COMMIT until Ctrl-C
	@$(BIN)/consumer --topic $(TOPIC) --group $(GROUP) --reset $(RESET) --commit $(COMMIT)

offsets: build ## describe GROUP: committed offsets, log end, lag, members
	@$(BIN)/offsets describe --group $(GROUP)

scenarios: build ## run the whole scenario catalog under PROTOCOL (both: classic and KIP-848) (embedded stack unless OFFSETLAB_BOOTSTRAP is set)
	@$(BIN)/scenarios run --protocol $(PROTOCOL) --junit $(BIN)/scenarios-junit.xml

scenarios-kafka: build ## the whole catalog on an embedded stack set as Kafka ships (6s session floor, 45s KIP-848 session), as an external cluster
	@scripts/kafka-defaults.sh $(BIN) --junit $(BIN)/scenarios-kafka-junit.xml

scenario: build ## run one scenario: make scenario NAME=auto-commit-kill (list: bin/scenarios list)
	@test -n "$(NAME)" || { echo "usage: make scenario NAME=<scenario> (see bin/scenarios list)"; exit 2; }
	@$(BIN)/scenarios run --protocol $(PROTOCOL) $(NAME)

exercises: build ## list the workshop exercises
	@$(BIN)/scenarios exercises

exercise: build ## predict, run and see the measured answer: make exercise N=3 (NO_PAUSE=1 for scripts, TIMELINE=t.html to draw the run)
	@test -n "$(N)" || { echo "usage: make exercise N=<number or name> (see make exercises)"; exit 2; }
	@$(BIN)/scenarios exercise $(N) $(if $(NO_PAUSE),--no-pause) $(if $(TIMELINE),--timeline $(TIMELINE))

up: ## start Apache Kafka + Schema Registry with docker compose (same ports)
	docker compose up -d --wait

down: ## stop the docker compose stack and delete its data
	docker compose down -v

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean: ## remove bin/
	rm -rf $(BIN)
