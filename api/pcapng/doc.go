// Package pcapng writes the Capture service's events as a pcapng file and
// reads such a file back into events: agents keep each capture in one, and
// the CLI writes what a Start or Download stream delivers. Each pod
// interface of each node gets its own interface description block, whose
// name ("namespace/pod@node") and description say where its packets came
// from, so Wireshark and tshark show it per packet (frame.interface_name).
package pcapng
