// Package grpctest serves gRPC services over in-memory connections for unit
// tests.
package grpctest
