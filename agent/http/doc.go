// Package http turns HTTP/1.x messages seen in the datapath into Hubble's
// L7 flows, without a proxy.
//
// The eBPF source hands Parser.Parse the first bytes of every TCP segment
// at a pod's interface whose payload starts an HTTP/1.x request or response
// (or the HTTP/2 preface), with the segment's sequence and acknowledgment
// numbers and payload length. Parse
// reads the request line, the Host header and the status line with the
// headers that fit, pairs responses with requests per connection and
// interface in order (keep-alive, pipelining), and writes one L7 record per
// message, whose Hubble details (method, URL, protocol, code, headers,
// latency from the request to the first byte of its response) go to an
// l7.Store, as Hubble's Envoy proxy reports them.
//
// Only a pod's own interface reports: a request leaving the client pod and
// its response arriving there (traffic direction EGRESS), and the request
// arriving at the server pod and its response leaving it (INGRESS), as
// Hubble's egress and ingress proxies do. The same message at the node's
// uplink or a tunnel device is skipped.
//
// The sequence numbers tell a new message from a retransmission and from a
// body that happens to start like one ("GET /…" in a POST): a segment inside
// the previous message's head and declared body is not a message. The
// acknowledgment numbers keep the pairing right when messages were missed
// (the datapath's rate limit): a response answers a request the server had
// received (see conn.answered). What the parser cannot follow it counts,
// never guesses: a request line cut by the
// snippet, a response to no request seen (a connection seen from its
// middle), connections upgraded to WebSocket or h2c (followed no further),
// HTTP/2 with prior knowledge (skipped), requests evicted unanswered from
// the bounded pairing table.
package http
