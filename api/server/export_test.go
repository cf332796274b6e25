package server

import (
	"testing"

	"github.com/foveanet/fovea/test/testca"
)

// TestPKI names PEM files of a server CA, a server certificate for
// serverName, a client CA and a client certificate it issued.
type TestPKI struct {
	CA, Cert, Key, ClientCA, ClientCert, ClientKey string
}

// TestServerName is the name TestPKI's server certificate is issued for.
const TestServerName = serverName

// WriteTestPKI writes a TestPKI into dir, for tests outside this package.
func WriteTestPKI(t *testing.T, dir string) TestPKI {
	ca, clientCA := testca.New(t, "server CA"), testca.New(t, "client CA")
	cert, key := ca.Issue(t, serverName)
	clientCert, clientKey := clientCA.Issue(t, "hubble-cli")
	return TestPKI{
		CA:         testca.WriteFile(t, dir, "ca.crt", ca.PEM),
		Cert:       testca.WriteFile(t, dir, "tls.crt", cert),
		Key:        testca.WriteFile(t, dir, "tls.key", key),
		ClientCA:   testca.WriteFile(t, dir, "client-ca.crt", clientCA.PEM),
		ClientCert: testca.WriteFile(t, dir, "client.crt", clientCert),
		ClientKey:  testca.WriteFile(t, dir, "client.key", clientKey),
	}
}
