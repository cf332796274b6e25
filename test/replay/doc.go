// Package replay is a packet source for load tests: synthetic records at a
// set rate into the agent's real pipeline, past what a test network's veths
// can carry. A bounded queue stands in for the kernel ring buffer, so a
// pipeline that falls behind loses records the way the eBPF source does,
// counted and reported as LostEvents, and never slows the producer. A share
// of the records can be DNS responses, whose payloads go through the
// agent's own parser, with names that rotate every second.
package replay
