// Package l7 keeps the application-layer details (DNS, HTTP) that records
// reference through Record.Ext. Records are fixed-size and pointer-free, so
// the details live beside the ring in a Store of the same order of size:
// DNS answers are mostly unique, and interning them in an unbounded table
// would grow without limit. A reference carries the sequence number of the
// write that issued it, so a reference whose slot was overwritten is
// detected (and counted) instead of resolving to another flow's details.
package l7
