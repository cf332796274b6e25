// Package tlsfiles owns TLS material read from files that rotate: a value
// (a server configuration, a client certificate) built from a set of files
// and rebuilt when any of them changes, so certificates are renewed without
// a restart. The agent's and relay's servers and the relay's client to its
// peers share it.
package tlsfiles
