// Package testca issues throwaway certificates for tests of TLS and mutual
// TLS: a CA, and certificates from it usable by servers and clients alike.
package testca
