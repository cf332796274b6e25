// Package server owns the agent's Hubble gRPC server: its listeners (a unix
// socket always, TCP when configured), TLS with certificate reload and
// optional mutual TLS, and the services it registers (Observer, Peer,
// health, reflection).
package server
