// Package capturepb holds the Fovea Capture service's messages and gRPC
// stubs, generated from capture.proto by protoc-gen-go and
// protoc-gen-go-grpc (`make generate`; `make check-generate` proves they
// match the proto).
package capturepb
