# The Fovea image for those who build with Docker: `docker build -t fovea .`.
# `make image` builds the same image without a container engine; both run
# scripts/build-fovea.sh for the binary, and test/image checks that this
# file and `make image` agree (toolchain, build, path, user, entrypoint,
# labels), so change them together.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN scripts/build-fovea.sh out/fovea

# No shell, no libc, nothing but the static binary, run as a non-root user
# (the relay's). The agent's pod runs as root (helm/fovea/values.yaml,
# agent.securityContext), because Kubernetes gives the capabilities a pod
# adds to root's processes only.
FROM scratch
COPY --from=build /src/out/fovea /usr/bin/fovea
LABEL org.opencontainers.image.source=https://github.com/foveanet/fovea
USER 65532:65532
ENTRYPOINT ["/usr/bin/fovea"]
