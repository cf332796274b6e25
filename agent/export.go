package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/foveanet/fovea/agent/export"
)

// staticLog names the flow log the flags describe, in metrics and logs.
const staticLog = "static"

func (c *Config) exportFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.ExportFilePath, flagExportFilePath, "",
		"file to write a Hubble flow log to, one observer.ExportEvent in JSON a line as Cilium's --hubble-export-file-path ('stdout': standard output); empty writes none")
	fs.IntVar(&c.ExportFileMaxSizeMB, flagExportFileMaxSizeMB, export.DefaultFileMaxSizeMB, "size in MB at which the flow log file is rotated")
	fs.IntVar(&c.ExportFileMaxBackups, flagExportFileMaxBackups, export.DefaultFileMaxBackups, "rotated flow log files to keep")
	fs.BoolVar(&c.ExportFileCompress, flagExportFileCompress, false, "gzip rotated flow log files")
	fs.StringVar(&c.ExportAllowlist, flagExportAllowlist, "",
		`flows to log: Hubble FlowFilters in JSON, one object after the other, e.g. '{"source_pod":["kube-system/"]} {"verdict":["DROPPED"]}'; a flow matching any is logged (default: all)`)
	fs.StringVar(&c.ExportDenylist, flagExportDenylist, "", "flows not to log: Hubble FlowFilters in JSON, as --"+flagExportAllowlist)
	fs.StringSliceVar(&c.ExportFieldMask, flagExportFieldMask, nil,
		"flow fields to write, e.g. 'time,source.pod_name,destination.pod_name,verdict' (default: all)")
	fs.StringVar(&c.FlowlogsConfig, flagFlowlogsConfig, "",
		"YAML file of flow logs, as Cilium's --hubble-flowlogs-config-path: 'flowLogs: [{name, filePath, fieldMask, includeFilters, excludeFilters, fileMaxSizeMb, fileMaxBackups, fileCompress, end}]'; "+
			"logs are added, changed and removed when it changes, and stop at their end")
	fs.DurationVar(&c.FlowlogsConfigInterval, flagFlowlogsConfigInterval, 5*time.Second, "how often to check the --"+flagFlowlogsConfig+" file for changes")
}

// validateExport reports the first invalid flow log setting; the file of
// --flowlogs-config is read when the agent starts.
func (c *Config) validateExport() error {
	if _, err := c.exportSpec(); err != nil {
		return err
	}
	if c.FlowlogsConfig != "" && c.FlowlogsConfigInterval <= 0 {
		return fmt.Errorf("--%s: %v must be positive", flagFlowlogsConfigInterval, c.FlowlogsConfigInterval)
	}
	return nil
}

// exportSpec reads the static flow log flags; the spec is nil without
// --export-file-path.
func (c *Config) exportSpec() (*export.Spec, error) {
	if c.ExportFilePath == "" {
		return nil, nil
	}
	if c.ExportFileMaxSizeMB <= 0 {
		return nil, fmt.Errorf("--%s: %d must be positive", flagExportFileMaxSizeMB, c.ExportFileMaxSizeMB)
	}
	if c.ExportFileMaxBackups < 0 {
		return nil, fmt.Errorf("--%s: %d must not be negative", flagExportFileMaxBackups, c.ExportFileMaxBackups)
	}
	allow, err := export.ParseFilters(c.ExportAllowlist)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagExportAllowlist, err)
	}
	deny, err := export.ParseFilters(c.ExportDenylist)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagExportDenylist, err)
	}
	spec := &export.Spec{
		Name: staticLog, FilePath: c.ExportFilePath, FieldMask: c.ExportFieldMask,
		IncludeFilters: allow, ExcludeFilters: deny,
		FileMaxSizeMB: c.ExportFileMaxSizeMB, FileMaxBackups: c.ExportFileMaxBackups, FileCompress: c.ExportFileCompress,
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("--%s: %w", specFlag(err), err)
	}
	return spec, nil
}

// specFlag names the flag behind a flow log spec's error.
func specFlag(err error) string {
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "includeFilters"):
		return flagExportAllowlist
	case strings.HasPrefix(msg, "excludeFilters"):
		return flagExportDenylist
	case strings.HasPrefix(msg, "fieldMask"):
		return flagExportFieldMask
	}
	return flagExportFilePath
}

// exporting is what follows the ring to export flows.
type exporting struct {
	manager *export.Manager
	// watcher applies --flowlogs-config; nil without it.
	watcher *export.ConfigWatcher
}

// newExport builds the exporters that follow the ring: the static flow
// log and the OTLP exporter, if the flags ask for them, and the flow logs
// of --flowlogs-config.
func newExport(cfg Config, dp *datapath, log *slog.Logger) (*exporting, error) {
	notify := func(typ, detail string) { dp.events.Publish(unknownAgentEvent(typ, detail)) }
	x := &exporting{manager: export.NewManager(dp.ring, dp.node, export.WithLogger(log), export.WithNotify(notify))}
	spec, err := cfg.exportSpec()
	if err != nil {
		return nil, err
	}
	if spec != nil {
		if err := x.manager.AddLog(*spec); err != nil {
			return nil, fmt.Errorf("--%s: %w", flagExportFilePath, err)
		}
		log.Info("writing a flow log", "path", spec.FilePath, "max_size_mb", spec.FileMaxSizeMB,
			"max_backups", spec.FileMaxBackups, "compress", spec.FileCompress)
	}
	if err := cfg.OTLP.addTo(x.manager, log); err != nil {
		return nil, err
	}
	if cfg.FlowlogsConfig != "" {
		x.watcher, err = export.NewConfigWatcher(cfg.FlowlogsConfig, x.manager, export.WithWatchLogger(log),
			export.WithWatchNotify(notify), export.WithWatchInterval(cfg.FlowlogsConfigInterval))
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flagFlowlogsConfig, err)
		}
	}
	return x, nil
}

// run runs the exporters and the watcher of their file until ctx ends.
func (x *exporting) run(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return x.manager.Run(ctx) })
	if x.watcher != nil {
		g.Go(func() error { return x.watcher.Run(ctx) })
	}
}

// collectors are the exporters' series, and the watcher's if it runs.
func (x *exporting) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{x.manager.Collector()}
	if x.watcher != nil {
		cs = append(cs, x.watcher.Collector())
	}
	return cs
}
