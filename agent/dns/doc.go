// Package dns turns DNS messages seen in the datapath into L7 records and
// DNS names for addresses.
//
// The eBPF source hands Parser.Parse the first bytes of every packet's
// payload on a DNS port. Parse decodes the message with
// github.com/miekg/dns, stores its Hubble L7 details (query, qtypes, rcode,
// answer IPs, TTL, CNAMEs, answer types, request→response latency) in an
// l7.Store, and writes an L7 record that references them. Responses also
// feed Names, the TTL-aware IP→names cache that the names enricher reads so
// that later flows carry source_names/destination_names.
//
// Bad input is expected (TCP segments that do not start a message, hostile
// packets): it yields no record and is counted, never a panic. A message cut
// by the snippet length still yields its question and the answers that fit.
package dns
