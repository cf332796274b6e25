// Command fovea is Fovea's single binary: `fovea agent` serves the Hubble API
// for one node, `fovea demo` runs a simulated cluster with live flows.
//
// This package owns the command line: it binds every flag to a field of a
// config struct in one place, fills flags not given on the command line from
// FOVEA_* environment variables and then from a YAML config file, and hands
// the structs to the packages that run.
package main
