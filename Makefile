# ordergate: `make test` is the one command that proves the project (CI runs it too).
GO          ?= go
FUZZTIME    ?= 10s
PKGS        := ./...

.PHONY: test check vet fmt unit fuzz fuzz-long bench tools

## test: everything CI checks: formatting, vet, the unit and integration tests with the race
## detector, and a short run of every fuzz target. Starts Redis when none answers.
test: check unit fuzz

check: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

tools:
	@scripts/ensure-redis.sh

unit: tools
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (CI: 10s; use `make fuzz FUZZTIME=10m` for more).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./order
	$(GO) test -run '^$$' -fuzz '^FuzzScanner$$' -fuzztime $(FUZZTIME) ./order

## bench: the Go benchmarks of the hot paths, with allocations.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
