package tlsfiles

import (
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foveanet/fovea/test/testca"
)

func TestCAPoolTrustsEveryBundle(t *testing.T) {
	dir := t.TempDir()
	a, b := testca.New(t, "CA a"), testca.New(t, "CA b")
	pool, err := CAPool([]string{testca.WriteFile(t, dir, "a.crt", a.PEM), testca.WriteFile(t, dir, "b.crt", b.PEM)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range []*testca.CA{a, b} {
		leaf := ca.KeyPair(t, "agent").Leaf
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "agent"}); err != nil {
			t.Fatalf("certificate from a bundle in the pool: %v", err)
		}
	}
}

func TestCAPoolRejectsBadBundles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, file, want string }{
		{"missing", filepath.Join(dir, "missing.crt"), "read CA bundle: open"},
		{"no PEM", testca.WriteFile(t, dir, "garbage.crt", []byte("not a certificate")), "no PEM certificate found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := CAPool([]string{tc.file}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CAPool error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
