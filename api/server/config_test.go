package server

import (
	"reflect"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestFlagsBindFieldsWithTheGivenDefaults(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.Flags(fs, Config{SocketPath: "/run/t.sock", ListenAddress: ":1"})
	if err := fs.Parse([]string{"--insecure", "--tls-client-ca-files=a.pem,b.pem", "--health-address=:9"}); err != nil {
		t.Fatal(err)
	}
	want := Config{
		SocketPath: "/run/t.sock", ListenAddress: ":1", Insecure: true, TLSClientCAFiles: []string{"a.pem", "b.pem"}, HealthAddress: ":9",
		Limits: Limits{}.withDefaults(),
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestLimitFlags(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.Flags(fs, Config{Limits: Limits{MaxStreamsPerClient: 7}})
	if err := fs.Parse([]string{"--max-request-bytes=65536", "--idle-timeout=1h", "--keepalive-time=2s"}); err != nil {
		t.Fatal(err)
	}
	want := Limits{
		MaxRequestBytes: 65536, MaxStreamsPerClient: 7, HandshakeTimeout: defaultHandshakeTimeout,
		KeepaliveTime: 2 * time.Second, KeepaliveTimeout: defaultKeepaliveTimeout, IdleTimeout: time.Hour,
	}
	if c.Limits != want {
		t.Fatalf("got %+v, want %+v", c.Limits, want)
	}
}
