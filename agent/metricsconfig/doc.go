// Package metricsconfig keeps the Hubble flow metrics in step with their
// config file (--metrics-config), in the shape of Cilium's dynamic metrics
// config. The file is re-read when it changes and applied whole or not at
// all: a file that does not parse or names what Fovea does not have is
// logged, published as an agent event and counted, and the handlers it
// was to replace keep counting.
package metricsconfig
