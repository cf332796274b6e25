package server

import "testing"

// TestPKI names PEM files of a server CA, a server certificate for
// serverName, a client CA and a client certificate it issued.
type TestPKI struct {
	CA, Cert, Key, ClientCA, ClientCert, ClientKey string
}

// TestServerName is the name TestPKI's server certificate is issued for.
const TestServerName = serverName

// WriteTestPKI writes a TestPKI into dir, for tests outside this package.
func WriteTestPKI(t *testing.T, dir string) TestPKI {
	ca, clientCA := newTestCA(t, "server CA"), newTestCA(t, "client CA")
	cert, key := ca.issue(t, serverName)
	clientCert, clientKey := clientCA.issue(t, "hubble-cli")
	return TestPKI{
		CA:         writeFile(t, dir, "ca.crt", ca.pem),
		Cert:       writeFile(t, dir, "tls.crt", cert),
		Key:        writeFile(t, dir, "tls.key", key),
		ClientCA:   writeFile(t, dir, "client-ca.crt", clientCA.pem),
		ClientCert: writeFile(t, dir, "client.crt", clientCert),
		ClientKey:  writeFile(t, dir, "client.key", clientKey),
	}
}
