# ordergate: `make test` is the one command that proves the project (CI runs it too).
GO          ?= go
FUZZTIME    ?= 10s
PKGS        := ./...

# Each recipe runs in one shell, so that the stages of `make test` share their tally.
.ONESHELL:
SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c

.PHONY: test check vet fmt unit fuzz vulncheck bench tools poison flood perf soak

# fuzz_target: the command that runs one fuzz target ($(1)) of a package ($(2)) for FUZZTIME
# (scripts/fuzz.sh: once more after Go 1.26's deadline race, never after a real failure).
fuzz_target = env GO=$(GO) scripts/fuzz.sh $(1) $(2) $(FUZZTIME)

## test: everything CI checks, one line per stage (the output of a stage only when it fails)
## and a closing "N passed, N failed" line: formatting, vet, the unit and integration tests
## with the race detector, a short run of every fuzz target, and govulncheck. To add a
## stage, add one `stage NAME COMMAND...` line (scripts/stage.sh).
test: tools
	@. scripts/stage.sh
	stage gofmt                 scripts/check-gofmt.sh
	stage vet                   $(GO) vet $(PKGS)
	stage unit                  $(GO) test -race -count=1 -timeout 15m $(PKGS)
	stage fuzz/FuzzDecide       $(call fuzz_target,FuzzDecide,./processor/order)
	stage fuzz/FuzzHeaders      $(call fuzz_target,FuzzHeaders,./processor/order)
	stage fuzz/FuzzScanner      $(call fuzz_target,FuzzScanner,./processor/order)
	stage fuzz/FuzzParseDate    $(call fuzz_target,FuzzParseDate,./processor/order/workday)
	stage fuzz/FuzzBuild        $(call fuzz_target,FuzzBuild,./publisher/event)
	stage govulncheck           scripts/govulncheck.sh
	summary

check: fmt vet

fmt:
	@scripts/check-gofmt.sh

vet:
	$(GO) vet $(PKGS)

## tools: what the tests need beyond Go: Redis (stopped when this make ends if started
## here), promtool, podman and runc (the image test; 77: cannot be installed here, the test
## skips), helm (built once from the module proxy).
tools:
	@scripts/ensure-redis.sh --until-exit $$PPID
	scripts/ensure-promtool.sh >/dev/null
	scripts/ensure-podman.sh >/dev/null || [ $$? -eq 77 ]
	scripts/ensure-helm.sh >/dev/null

unit: tools
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (CI: 10s; use `make fuzz FUZZTIME=10m` for more).
fuzz:
	$(call fuzz_target,FuzzDecide,./processor/order)
	$(call fuzz_target,FuzzHeaders,./processor/order)
	$(call fuzz_target,FuzzScanner,./processor/order)
	$(call fuzz_target,FuzzParseDate,./processor/order/workday)
	$(call fuzz_target,FuzzBuild,./publisher/event)

## vulncheck: govulncheck against an offline database built from a pinned golang.org/x/vulndb:
## a reachable vulnerability of a third-party module fails, the standard library's are
## reported with their fixing release (one line; VERBOSE=1 for details).
vulncheck:
	@scripts/govulncheck.sh

## bench: the Go benchmarks of the hot paths, with allocations.
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem ./processor/order ./publisher/event ./internal/app/bench ./processor/servicepoint

## perf: the whole worker against the referee, plain kafka-go forwarding (see docs/performance.md).
perf: tools
	$(GO) run ./cmd/ordergate bench --records 200000

## poison: 10,000 records of random bytes up to 1 MiB, all rejected; reports peak RSS.
poison: tools
	$(GO) test -tags long -count=1 -run TestPoisonFlood -v -timeout 20m ./tests/faults

## flood: 2,000 records of 1 MiB on 6 partitions waiting for a worker without a memory limit:
## every one rejected 413/66, none lost, and the worker's peak RSS (VmHWM) under 160 MiB
## (issue 18). `make test` runs the same test on 128 partitions with a 128MiB limit.
flood: tools
	FLOOD_PARTITIONS=6 FLOOD_RECORDS=2000 FLOOD_LIMIT_MIB=0 $(GO) test -count=1 -run TestLargeRecordFloodStaysUnderTheMemoryLimit -v -timeout 20m ./tests/security

## soak: the network fault matrix at length (20,000 records a row, faults held 30 s).
soak: tools
	$(GO) test -tags long -count=1 -run TestNetworkFaultsSoak -v -timeout 30m ./tests/faults
