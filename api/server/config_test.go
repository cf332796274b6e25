package server

import (
	"reflect"
	"testing"

	"github.com/spf13/pflag"
)

func TestFlagsBindFieldsWithTheGivenDefaults(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.Flags(fs, Config{SocketPath: "/run/t.sock", ListenAddress: ":1"})
	if err := fs.Parse([]string{"--insecure", "--tls-client-ca-files=a.pem,b.pem", "--health-address=:9"}); err != nil {
		t.Fatal(err)
	}
	want := Config{SocketPath: "/run/t.sock", ListenAddress: ":1", Insecure: true, TLSClientCAFiles: []string{"a.pem", "b.pem"}, HealthAddress: ":9"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}
