// Package record owns Record, the compact fixed-size form in which the agent
// keeps every observed event: what the ring buffer stores, what filters read
// on their fast path, and what the event package turns into a flow.Flow only
// when a flow is served.
//
// A Record holds no pointers. Variable-sized or shared data (endpoints,
// interface names, DNS names, L7 payloads) lives in the intern tables and is
// referenced by intern.Ref, so a record costs the GC nothing to scan and can
// be copied word by word.
package record
