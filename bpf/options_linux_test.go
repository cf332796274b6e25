//go:build linux

package bpf

// withForceTC makes the source attach through tc clsact as on kernels
// without tcx.
func withForceTC() Option {
	return func(o *options) { o.forceTC = true }
}
