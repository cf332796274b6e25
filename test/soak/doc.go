// Package soak holds the reliability suite: the real agent (its pipeline,
// ring, Observer and gRPC server) driven by the replay source at rising
// rates, followed by many clients at once, attacked by hostile ones, and
// churned for as long as FOVEA_SOAK_DURATION says. The tests run the agent
// as a child process (this test binary, re-executed), so its CPU and memory
// are measured apart from the clients'. docs/reliability.md publishes the
// figures and the commands that reproduce them.
package soak
