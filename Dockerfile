# ordergate: a static binary on a minimal, non-root image.
#
#   docker build -t ordergate .
#   docker run --rm -p 8080:8080 -e ORDERGATE_KAFKA_BROKERS=... -e ORDERGATE_REDIS_URL=... \
#       -e ORDERGATE_INVENTORY_URL=... ordergate
#
# tests/artifacts/dockerfile_test.go checks this file: multi-stage, a Go builder of the version of
# go.mod, a static build, a non-root user, a HEALTHCHECK.

# Build stage: the Go version of go.mod's go directive (1.26), pinned to a patch release.
FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first, so that a change of code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Static (no cgo: no libc needed), reproducible paths, no symbol table or DWARF. The time-zone
# database is embedded by the code (time/tzdata), so the image needs no /usr/share/zoneinfo.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/ordergate ./cmd/ordergate

# Final stage: BusyBox, for its wget, so that Docker and docker compose can probe /healthz
# with a HEALTHCHECK (a distroless or scratch image has no HTTP client, and ordergate has no
# probe command of its own). On Kubernetes the HEALTHCHECK is ignored: use httpGet probes on
# /healthz (liveness) and /readyz (readiness) of ORDERGATE_HTTP_ADDR. See docs/deploy.md.
FROM busybox:1.37.0-musl
# System roots for TLS to the brokers, Redis (rediss://) and the inventory (https) when no CA
# file is configured.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ordergate /usr/local/bin/ordergate
# The distroless "nonroot" user: no home, no shell login, no write access to the image.
USER 65532:65532
EXPOSE 8080
# Liveness only (the process serves HTTP); it assumes the default ORDERGATE_HTTP_ADDR (:8080).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
# SIGTERM: ordergate stops fetching, publishes what it holds and commits within
# ORDERGATE_SHUTDOWN_TIMEOUT (20s); give it a grace period above that (docker stop -t 30).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ordergate"]
CMD ["run"]
