//go:build linux

package retina

import (
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkNodeScrape is the cost of reading Retina's node series at
// scrape time on this host, per group and all together, with 200 TCP
// connections open (400 sockets, 200 remotes) besides the host's own.
func BenchmarkNodeScrape(b *testing.B) {
	lis, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		b.Fatal(err)
	}
	defer lis.Close()
	for range 200 {
		c, err := net.Dial("tcp", lis.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		s, err := lis.Accept()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
	}
	c, err := New(slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range c.readers {
		b.Run("collector="+r.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := r.read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("collector=all", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c.Collector())
		b.ReportAllocs()
		for range b.N {
			if _, err := reg.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
