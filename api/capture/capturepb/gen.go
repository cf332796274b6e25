package capturepb

// protoc is Debian's (protobuf-compiler); protoc-gen-go and
// protoc-gen-go-grpc are pinned in tools/go.mod and built into .bin by
// `make generate`, which puts .bin first on the PATH. flow.proto, for
// FlowFilter, is read from the cilium module this module requires, under
// the name cilium's own generated code registers ("flow/flow.proto").
//go:generate sh -c "protoc -I . -I \"$(go list -m -f '{{.Dir}}' github.com/cilium/cilium)/api/v1\" --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative capture.proto"
