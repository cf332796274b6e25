package bpf

// Option customises a Source.
type Option func(*options)

type options struct {
	attachHook func(iface string, ifindex int, attached bool)
	ready      func()
	l7         L7Parser
	// forceTC skips tcx and attaches through tc clsact, as on kernels
	// without tcx; tests use it to exercise the fallback.
	forceTC bool
}

// WithAttachHook calls hook whenever the source attaches to (attached=true)
// or detaches from an interface. It runs on the source's goroutines and must
// not block.
func WithAttachHook(hook func(iface string, ifindex int, attached bool)) Option {
	return func(o *options) { o.attachHook = hook }
}

// WithReady calls ready once Run has attached to every selected interface
// present at start, so an agent can tell clients it is capturing (and
// serve them only then).
func WithReady(ready func()) Option {
	return func(o *options) { o.ready = ready }
}
