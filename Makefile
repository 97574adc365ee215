# ordergate: `make test` is the one command that proves the project (CI runs it too).
GO          ?= go
FUZZTIME    ?= 10s
PKGS        := ./...

.PHONY: test check vet fmt unit fuzz bench tools poison perf

## test: everything CI checks: formatting, vet, the unit and integration tests with the race
## detector, and a short run of every fuzz target. Starts Redis when none answers.
test: check unit fuzz

check: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## tools: what the tests need beyond Go: Redis, promtool, podman and runc (the image test;
## 77: cannot be installed here, the test skips), helm (built once from the module proxy).
tools:
	@scripts/ensure-redis.sh
	@scripts/ensure-promtool.sh >/dev/null
	@scripts/ensure-podman.sh >/dev/null || [ $$? -eq 77 ]
	@scripts/ensure-helm.sh >/dev/null

unit: tools
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (CI: 10s; use `make fuzz FUZZTIME=10m` for more).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./processor/order
	$(GO) test -run '^$$' -fuzz '^FuzzHeaders$$' -fuzztime $(FUZZTIME) ./processor/order
	$(GO) test -run '^$$' -fuzz '^FuzzScanner$$' -fuzztime $(FUZZTIME) ./processor/order
	$(GO) test -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME) ./processor/order/workday

## bench: the Go benchmarks of the hot paths, with allocations.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./processor/order ./publisher/event ./internal/app/bench ./processor/servicepoint

## perf: the whole worker against the Kafka client's ceiling (see docs/performance.md).
perf: tools
	$(GO) run ./cmd/ordergate bench --records 200000

## poison: 10,000 records of random bytes up to 1 MiB, all rejected; reports peak RSS.
poison: tools
	$(GO) test -tags long -count=1 -run TestPoisonFlood -v -timeout 20m ./tests/faults
