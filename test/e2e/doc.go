// Package e2e holds Fovea's end-to-end tests: a network-namespace cluster
// with real agents, real traffic, and assertions made with the real hubble
// CLI, the client users run. They need root (network namespaces, eBPF) and
// the binaries named by FOVEA_BIN and HUBBLE_BIN (`make e2e` sets both).
package e2e
