// Package tlsfiles owns TLS material read from files that rotate: a value
// (a server or client configuration) built from a set of files and rebuilt
// when any of them changes, so certificates and CAs are renewed without a
// restart; the loading of CA bundles; and gRPC client credentials that take
// each handshake's configuration from the latest files. The agent's and
// relay's servers and the relay's client to its peers share it.
package tlsfiles
