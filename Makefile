# ordergate: `make test` is the one command that proves the project (CI runs it too).
GO          ?= go
FUZZTIME    ?= 10s
PKGS        := ./...

.PHONY: test check vet fmt unit fuzz vulncheck bench tools poison perf soak

## test: everything CI checks: formatting, vet, the unit and integration tests with the race
## detector, a short run of every fuzz target, and govulncheck. Starts Redis when none answers.
test: check unit fuzz vulncheck

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
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' -fuzztime $(FUZZTIME) ./publisher/event

## vulncheck: govulncheck against an offline database built from a pinned golang.org/x/vulndb:
## a reachable vulnerability of a third-party module fails, the standard library's are
## reported with their fixing release (one line; VERBOSE=1 for details).
vulncheck:
	@scripts/govulncheck.sh

## bench: the Go benchmarks of the hot paths, with allocations.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./processor/order ./publisher/event ./internal/app/bench ./processor/servicepoint

## perf: the whole worker against the Kafka client's ceiling (see docs/performance.md).
perf: tools
	$(GO) run ./cmd/ordergate bench --records 200000

## poison: 10,000 records of random bytes up to 1 MiB, all rejected; reports peak RSS.
poison: tools
	$(GO) test -tags long -count=1 -run TestPoisonFlood -v -timeout 20m ./tests/faults

## soak: the network fault matrix at length (20,000 records a row, faults held 30 s).
soak: tools
	$(GO) test -tags long -count=1 -run TestNetworkFaultsSoak -v -timeout 30m ./tests/faults
