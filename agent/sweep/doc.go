// Package sweep frees the intern tables' values that nothing references any
// more. Its Sweeper runs the tables' mark and sweep every interval: it takes
// the marks, has every holder (the ring of records, the endpoints index, the
// DNS names cache, the datapath's interfaces) mark what it keeps, and sweeps,
// so a value is freed two to three intervals after its last use. The
// algorithm, and why it never frees a value a record in the ring still
// needs, is the intern package's; this package only schedules and measures
// it.
package sweep
