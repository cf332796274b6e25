package agent

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"

	"github.com/foveanet/fovea/agent/export"
	"github.com/foveanet/fovea/api/tlsfiles"
)

// otlpExporter names the OTLP exporter in metrics and logs.
const otlpExporter = "otlp"

// OTLPConfig is where and how the agent sends flows as OTLP logs.
type OTLPConfig struct {
	// Endpoint is the collector's OTLP/gRPC address, host:port; empty
	// sends nothing.
	Endpoint string
	// Insecure sends in plaintext; otherwise TLS verifies the collector
	// against CAFiles (default: the system roots) and ServerName (default:
	// the endpoint's host), presenting CertFile and KeyFile if set (mutual
	// TLS). The files are reloaded when they change.
	Insecure             bool
	CAFiles              []string
	CertFile, KeyFile    string
	ServerName           string
	Headers              map[string]string
	Compression          string
	Allowlist, Denylist  string
	FieldMask            []string
	BatchSize, QueueSize int
	BatchTimeout         time.Duration
	Timeout              time.Duration
}

func (c *OTLPConfig) flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Endpoint, flagOTLPEndpoint, "", "OpenTelemetry Collector to send flows to as OTLP logs over gRPC, host:port; empty sends none")
	fs.BoolVar(&c.Insecure, flagOTLPInsecure, false, "send OTLP in plaintext")
	fs.StringSliceVar(&c.CAFiles, flagOTLPTLSCAFiles, nil, "CA bundles the collector's certificate must chain to (default: system roots)")
	fs.StringVar(&c.CertFile, flagOTLPTLSCertFile, "", "client certificate (PEM) for a collector requiring mutual TLS")
	fs.StringVar(&c.KeyFile, flagOTLPTLSKeyFile, "", "client private key (PEM) for a collector requiring mutual TLS")
	fs.StringVar(&c.ServerName, flagOTLPTLSServerName, "", "name the collector's certificate must carry (default: the endpoint's host)")
	fs.StringToStringVar(&c.Headers, flagOTLPHeaders, nil, "headers sent with every OTLP call, e.g. 'authorization=Bearer TOKEN'")
	fs.StringVar(&c.Compression, flagOTLPCompression, "gzip", "compression of OTLP calls: gzip or none")
	fs.StringVar(&c.Allowlist, flagOTLPAllowlist, "", "flows to send: Hubble FlowFilters in JSON, as --"+flagExportAllowlist)
	fs.StringVar(&c.Denylist, flagOTLPDenylist, "", "flows not to send: Hubble FlowFilters in JSON, as --"+flagExportDenylist)
	fs.StringSliceVar(&c.FieldMask, flagOTLPFieldMask, nil, "flow fields in each log record's body (default: all); attributes come from the whole flow")
	fs.IntVar(&c.BatchSize, flagOTLPBatchSize, export.DefaultOTLPBatchSize, "log records sent in one OTLP call at most")
	fs.DurationVar(&c.BatchTimeout, flagOTLPBatchTimeout, export.DefaultOTLPBatchTimeout, "longest a flow waits for its batch to fill")
	fs.IntVar(&c.QueueSize, flagOTLPQueueSize, export.DefaultOTLPQueueSize,
		"log records waiting to be sent at most, while the collector is slow or down; batches beyond are dropped and counted")
	fs.DurationVar(&c.Timeout, flagOTLPTimeout, export.DefaultOTLPTimeout, "timeout of one OTLP call")
}

func (c *OTLPConfig) validate() error {
	if c.Endpoint == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		return fmt.Errorf("--%s: %w", flagOTLPEndpoint, err)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("--%s, --%s: must be set together", flagOTLPTLSCertFile, flagOTLPTLSKeyFile)
	}
	if c.Insecure && (c.CertFile != "" || len(c.CAFiles) > 0 || c.ServerName != "") {
		return fmt.Errorf("--%s: conflicts with the --otlp-tls-* flags", flagOTLPInsecure)
	}
	if c.Compression != "gzip" && c.Compression != "none" {
		return fmt.Errorf("--%s: %q is neither gzip nor none", flagOTLPCompression, c.Compression)
	}
	switch {
	case c.BatchSize <= 0:
		return fmt.Errorf("--%s: %d must be positive", flagOTLPBatchSize, c.BatchSize)
	case c.QueueSize < c.BatchSize:
		return fmt.Errorf("--%s: %d must hold a batch (--%s %d)", flagOTLPQueueSize, c.QueueSize, flagOTLPBatchSize, c.BatchSize)
	case c.BatchTimeout <= 0:
		return fmt.Errorf("--%s: %v must be positive", flagOTLPBatchTimeout, c.BatchTimeout)
	case c.Timeout <= 0:
		return fmt.Errorf("--%s: %v must be positive", flagOTLPTimeout, c.Timeout)
	}
	_, err := c.exporter(nil)
	return err
}

// exporter is the export.OTLP of c, reading TLS files with log (nil: not
// read, when only validating).
func (c *OTLPConfig) exporter(log *slog.Logger) (export.OTLP, error) {
	allow, err := export.ParseFilters(c.Allowlist)
	if err != nil {
		return export.OTLP{}, fmt.Errorf("--%s: %w", flagOTLPAllowlist, err)
	}
	deny, err := export.ParseFilters(c.Denylist)
	if err != nil {
		return export.OTLP{}, fmt.Errorf("--%s: %w", flagOTLPDenylist, err)
	}
	o := export.OTLP{
		Name: otlpExporter, Headers: c.Headers, IncludeFilters: allow, ExcludeFilters: deny, FieldMask: c.FieldMask,
		BatchSize: c.BatchSize, BatchTimeout: c.BatchTimeout, QueueSize: c.QueueSize, Timeout: c.Timeout,
	}
	if c.Compression == "gzip" {
		o.CallOptions = []grpc.CallOption{grpc.UseCompressor(gzip.Name)}
	}
	if err := export.ValidateSelection(allow, deny, c.FieldMask); err != nil {
		return export.OTLP{}, fmt.Errorf("--%s: %w", otlpSelectionFlag(err), err)
	}
	if log == nil {
		return o, nil
	}
	creds := insecure.NewCredentials()
	if !c.Insecure {
		files := slices.Clone(c.CAFiles)
		if c.CertFile != "" {
			files = append(files, c.CertFile, c.KeyFile)
		}
		configs, err := tlsfiles.New(files, func() (*tls.Config, error) {
			return tlsfiles.LoadClientConfig(c.CAFiles, c.CertFile, c.KeyFile)
		}, log)
		if err != nil {
			return export.OTLP{}, fmt.Errorf("--%s: %w", flagOTLPTLSCAFiles, err)
		}
		name := c.ServerName
		if name == "" {
			name, _, _ = net.SplitHostPort(c.Endpoint)
		}
		creds = tlsfiles.ClientCredentials(configs, name)
	}
	endpoint := c.Endpoint
	o.Dial = func() (*grpc.ClientConn, error) {
		return grpc.NewClient(endpoint, grpc.WithTransportCredentials(creds))
	}
	return o, nil
}

// otlpSelectionFlag names the flag behind an OTLP filter or mask error.
func otlpSelectionFlag(err error) string {
	switch specFlag(err) {
	case flagExportAllowlist:
		return flagOTLPAllowlist
	case flagExportDenylist:
		return flagOTLPDenylist
	}
	return flagOTLPFieldMask
}

// addTo adds the OTLP exporter to m, if --otlp-endpoint asks for one.
func (c *OTLPConfig) addTo(m *export.Manager, log *slog.Logger) error {
	if c.Endpoint == "" {
		return nil
	}
	o, err := c.exporter(log)
	if err != nil {
		return err
	}
	if err := m.AddOTLP(o); err != nil {
		return fmt.Errorf("--%s: %w", flagOTLPEndpoint, err)
	}
	log.Info("sending flows as OTLP logs", "endpoint", c.Endpoint, "tls", !c.Insecure, "compression", c.Compression,
		"batch_size", c.BatchSize, "queue_size", c.QueueSize)
	return nil
}
