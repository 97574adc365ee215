// Package deploy tests what ordergate ships for running it: the container image built from
// the Dockerfile's final stage and run with podman against a broker and Redis on the host
// (image_test.go), and the Helm chart of deploy/helm/ordergate rendered with helm, its objects
// decoded strictly into the Kubernetes API types or validated against the vendored CRD
// schemas, and its environment loaded by the config package (chart_test.go). podman and helm
// are installed by scripts/ensure-podman.sh and scripts/ensure-helm.sh (`make tools`).
// It holds tests only.
package deploy
