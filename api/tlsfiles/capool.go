package tlsfiles

import (
	"crypto/x509"
	"fmt"
	"os"
)

// CAPool reads CA bundles into a pool. A file without a PEM certificate is
// an error rather than a silently empty trust set.
func CAPool(files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA bundle %s: no PEM certificate found", f)
		}
	}
	return pool, nil
}
