# ordergate: a static binary on an empty (scratch) image, run by a non-root user.
#
#   docker build -t ordergate .
#   docker run --rm -p 8080:8080 --read-only --cap-drop ALL -e ORDERGATE_KAFKA_BROKERS=... \
#       -e ORDERGATE_REDIS_URL=... -e ORDERGATE_INVENTORY_URL=... ordergate
#
# The final stage holds three files: the binary, the CA roots and nothing else (no shell, no
# package manager, no HTTP client); its HEALTHCHECK is the binary's own `ordergate healthcheck`.
#
# BINARY_FROM picks the stage that provides /out/ordergate and /out/ca-certificates.crt:
#   build     (default) compiled here, in the Go builder below;
#   prebuilt  copied from the build context, for a binary built elsewhere with the same
#             command (tests/deploy builds the image this way with podman, which cannot pull
#             the Go image here); the context must then hold ordergate and ca-certificates.crt.
# BuildKit builds only the stages the target needs, so the default never reads the context's
# prebuilt files, and the prebuilt path never pulls the Go image. See docs/deploy.md.
#
# tests/artifacts/dockerfile_test.go checks this file: multi-stage, a Go builder of the version
# of go.mod, a static build, a non-root user, a HEALTHCHECK; tests/deploy builds and runs it.
ARG BINARY_FROM=build

# Build stage: the Go version of go.mod's go directive (1.26), pinned to its latest patch
# release: the binary embeds the standard library, whose fixes come with it (go1.26.9 and
# go1.26.10 fix reachable net/http, crypto/tls and crypto/x509 vulnerabilities; `make test`
# fails when this pin lacks a fix govulncheck reports, see scripts/govulncheck.sh).
FROM golang:1.26.11 AS build
WORKDIR /src
# Modules first, so that a change of code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Static (no cgo: no libc needed), reproducible paths, no symbol table or DWARF. The time-zone
# database is embedded by the code (time/tzdata), so the image needs no /usr/share/zoneinfo.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/ordergate ./cmd/ordergate
# System roots for TLS to the brokers, Redis (rediss://) and the inventory (https) when no CA
# file is configured.
RUN cp /etc/ssl/certs/ca-certificates.crt /out/ca-certificates.crt

# The same two files, built outside (BINARY_FROM=prebuilt).
FROM scratch AS prebuilt
COPY ordergate ca-certificates.crt /out/

FROM ${BINARY_FROM} AS binary

# Final stage: nothing but the binary and the CA roots.
FROM scratch
COPY --from=binary /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=binary /out/ordergate /usr/local/bin/ordergate
# The distroless "nonroot" user: no home, no shell login, no write access to the image. There
# is no /etc/passwd: the numeric id is all the kernel needs, and Kubernetes' runAsNonRoot can
# check a numeric USER.
USER 65532:65532
EXPOSE 8080
# Liveness only: /healthz on ORDERGATE_HTTP_ADDR, read from the container's environment as
# `run` reads it (`ordergate healthcheck --ready` probes /readyz). Kubernetes ignores
# HEALTHCHECK: the Helm chart (deploy/helm/ordergate) uses httpGet probes on /healthz and
# /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/ordergate", "healthcheck"]
# SIGTERM: ordergate stops fetching, publishes what it holds and commits within
# ORDERGATE_SHUTDOWN_TIMEOUT (20s); give it a grace period above that (docker stop -t 30).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ordergate"]
CMD ["run"]
