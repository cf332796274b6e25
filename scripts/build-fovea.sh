#!/bin/sh
# Builds the fovea binary the image ships, into $1. `make image` and the
# Dockerfile both run this script, so the two images hold a binary built
# with the same flags (test/image checks it): static (no cgo: the image has
# no C library), paths trimmed and no VCS stamp (the same source gives the
# same bytes wherever it is checked out), stripped, and stamped with the
# chart's appVersion, which is also the image tag.
# Run it from the repository root.
set -eu
out=${1:?usage: scripts/build-fovea.sh OUT}
version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' helm/fovea/Chart.yaml)
# GOFLAGS is cleared so that nothing in the environment adds flags.
CGO_ENABLED=0 GOOS=linux GOFLAGS= exec go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$version" -o "$out" ./cmd/fovea
