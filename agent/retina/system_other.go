//go:build !linux

package retina

// systemReaders are none where no Linux network stack is: Retina's Windows
// series come from HNS and VFP, which Fovea does not read yet.
func systemReaders(*Node) []reader { return nil }
