// Package periodic runs a function at a fixed interval until its context
// ends: the one loop behind the agent's intern sweeps, inventory polls and
// node address refreshes.
package periodic
