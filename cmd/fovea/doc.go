// Command fovea is Fovea's single binary: `fovea agent` serves the Hubble API
// for one node, `fovea relay` for every node of a cluster, `fovea demo` runs
// a simulated cluster with live flows.
//
// This package owns the commands: each registers its component's flags
// through the config's Flags method (the component names, defaults and
// validates them), fills flags not given on the command line from FOVEA_*
// environment variables and then from a YAML config file, and hands the
// config to the package that runs.
package main
