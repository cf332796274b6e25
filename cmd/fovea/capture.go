package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

const (
	// stopTimeout bounds the Stop call Ctrl-C makes.
	stopTimeout = 5 * time.Second
	// drainTimeout bounds the wait for the nodes' last events after it.
	drainTimeout = 15 * time.Second
)

func newCaptureCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "capture",
		Short: "Capture the packets of pods, selected like flows, on every node into one pcapng file",
	}
	cmd.AddCommand(newCaptureStartCommand(), newCaptureListCommand(), newCaptureStopCommand(), newCaptureDownloadCommand())
	return cmd
}

// newClientCommand builds a capture subcommand: bind adds its flags next to
// the common and client ones, run gets its arguments once the flags are
// settled.
func newClientCommand(use, short string, args cobra.PositionalArgs, bind func(*pflag.FlagSet),
	run func(ctx context.Context, log *slog.Logger, client capturepb.CaptureClient, args []string) error) *cobra.Command {
	var common commonFlags
	var client clientFlags
	cmd := &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := settle(cmd, &common); err != nil {
				return err
			}
			c, conn, err := client.dial()
			if err != nil {
				return err
			}
			defer conn.Close()
			return run(cmd.Context(), common.logger(), c, args)
		},
	}
	common.bind(cmd.Flags())
	client.bind(cmd.Flags())
	if bind != nil {
		bind(cmd.Flags())
	}
	return cmd
}

// startFlags are what a capture selects and how long it runs.
type startFlags struct {
	id, namespace, selector, nodeSelector, filter string
	pods, flowFilters                             []string
	hostInterfaces, quiet, tar                    bool
	duration                                      time.Duration
	maxPackets                                    uint64
	maxSize                                       byteSize
	snapLength                                    uint32
	output                                        string
}

func (f *startFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.id, "id", "", "the capture's id (default: one the server picks)")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "capture pods of this namespace")
	fs.StringVarP(&f.selector, "selector", "l", "", "capture pods matching this label selector, such as app=web,tier!=db")
	fs.StringSliceVar(&f.pods, "pod", nil, "capture these pods: name (with --namespace) or namespace/name")
	fs.StringVar(&f.nodeSelector, "node-selector", "", "capture on nodes matching this label selector")
	fs.StringArrayVar(&f.flowFilters, "flow-filter", nil,
		`capture the pods a flow matching this Hubble FlowFilter (JSON) comes from or goes to, e.g. '{"source_pod":["prod/web"]}'`)
	fs.BoolVar(&f.hostInterfaces, "host-interfaces", false, "also capture on the nodes' default-route interfaces")
	fs.StringVarP(&f.filter, "filter", "f", "", `tcpdump pcap-filter expression run in the kernel, such as "tcp port 80"`)
	fs.DurationVar(&f.duration, "duration", 0, "how long to capture (default: the node's, 1m)")
	fs.Uint64Var(&f.maxPackets, "max-packets", 0, "stop each node after this many packets (default: no limit)")
	fs.Var(&f.maxSize, "max-size", "stop each node once its packets take this much, such as 50MB (default: the node's, 100MiB)")
	fs.Uint32Var(&f.snapLength, "snap-length", 0, "bytes kept of each packet (default: 262144)")
	fs.StringVarP(&f.output, "output", "o", "", "file to write (required)")
	fs.BoolVar(&f.tar, "tar", false, "write a tar of one pcapng file per node instead of one merged pcapng")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "show no progress")
}

func (f *startFlags) request() (*capturepb.StartRequest, error) {
	if f.output == "" {
		return nil, errors.New("--output: must be set")
	}
	req := &capturepb.StartRequest{
		Id: f.id,
		Selector: &capturepb.Selector{
			Namespace: f.namespace, PodSelector: f.selector, PodNames: f.pods, NodeSelector: f.nodeSelector,
		},
		Filter:         f.filter,
		HostInterfaces: f.hostInterfaces,
		Limits:         &capturepb.Limits{MaxPackets: f.maxPackets, MaxBytes: uint64(f.maxSize), SnapLength: f.snapLength},
	}
	if f.duration != 0 {
		req.Limits.Duration = durationpb.New(f.duration)
	}
	for i, js := range f.flowFilters {
		ff := &flowpb.FlowFilter{}
		if err := protojson.Unmarshal([]byte(js), ff); err != nil {
			return nil, fmt.Errorf("--flow-filter %d: %w", i+1, err)
		}
		req.Selector.FlowFilters = append(req.Selector.FlowFilters, ff)
	}
	return req, nil
}

func newCaptureStartCommand() *cobra.Command {
	var f startFlags
	return newClientCommand("start", "Capture on every node with a selected pod until a limit or Ctrl-C, writing one pcapng file", cobra.NoArgs, f.bind,
		func(ctx context.Context, _ *slog.Logger, client capturepb.CaptureClient, _ []string) error {
			req, err := f.request()
			if err != nil {
				return err
			}
			// The stream outlives Ctrl-C, which stops the capture on every
			// node: their last packets and ends still come.
			streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			defer cancel()
			stream, err := client.Start(streamCtx, req)
			if err != nil {
				return fmt.Errorf("start capture: %w", err)
			}
			stop := func(id string) {
				if id == "" {
					cancel()
					return
				}
				sctx, scancel := context.WithTimeout(streamCtx, stopTimeout)
				defer scancel()
				if _, err := client.Stop(sctx, &capturepb.StopRequest{Id: id}); err != nil {
					fmt.Fprintf(os.Stderr, "stop capture %s: %v\n", id, err)
					cancel()
					return
				}
				time.AfterFunc(drainTimeout, cancel)
			}
			return receive(ctx, stream, newOutput(f.output, f.tar), newProgressView(os.Stderr, f.quiet), stop)
		})
}

func newCaptureDownloadCommand() *cobra.Command {
	var output string
	var asTar, quiet bool
	return newClientCommand("download ID", "Write an ended capture that the nodes keep to one pcapng file", cobra.ExactArgs(1),
		func(fs *pflag.FlagSet) {
			fs.StringVarP(&output, "output", "o", "", "file to write (required)")
			fs.BoolVar(&asTar, "tar", false, "write a tar of one pcapng file per node instead of one merged pcapng")
			fs.BoolVarP(&quiet, "quiet", "q", false, "show no progress")
		},
		func(ctx context.Context, _ *slog.Logger, client capturepb.CaptureClient, args []string) error {
			if output == "" {
				return errors.New("--output: must be set")
			}
			stream, err := client.Download(ctx, &capturepb.DownloadRequest{Id: args[0]})
			if err != nil {
				return fmt.Errorf("download capture: %w", err)
			}
			return receive(ctx, stream, newOutput(output, asTar), newProgressView(os.Stderr, quiet), nil)
		})
}

// receive writes a capture stream to out until it ends. When ctx ends
// first, stop (if any) is called once with the capture's id, and what
// still arrives is written.
func receive(ctx context.Context, stream grpc.ServerStreamingClient[capturepb.CaptureEvent], out *output, view progressView, stop func(id string)) (err error) {
	type result struct {
		ev  *capturepb.CaptureEvent
		err error
	}
	results := make(chan result)
	go func() {
		for {
			ev, err := stream.Recv()
			results <- result{ev, err}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		view.wait()
		err = errors.Join(err, out.close())
		if err == nil && out.empty() {
			err = errors.New("nothing was captured")
		}
	}()
	var id string
	var packets uint64
	nodes := map[string]bool{}
	done := ctx.Done()
	for {
		select {
		case <-done:
			done = nil
			if stop == nil {
				return ctx.Err()
			}
			fmt.Fprintln(os.Stderr, "stopping the capture on every node")
			go stop(id)
		case r := <-results:
			if errors.Is(r.err, io.EOF) {
				fmt.Fprintf(os.Stderr, "%d packets from %d nodes written to %s\n", packets, len(nodes), out.path)
				return nil
			}
			if r.err != nil {
				if id == "" {
					return fmt.Errorf("capture: %w", r.err)
				}
				return fmt.Errorf("capture %s: %w (what arrived is in %s)", id, r.err, out.path)
			}
			ev := r.ev
			id, nodes[ev.GetNode()] = ev.GetCaptureId(), true
			packets += uint64(len(ev.GetPackets().GetPackets()))
			if err := out.write(ev); err != nil {
				return err
			}
			view.event(ev)
		}
	}
}

func newCaptureListCommand() *cobra.Command {
	return newClientCommand("list", "List the captures every node runs or keeps", cobra.NoArgs, nil,
		func(ctx context.Context, _ *slog.Logger, client capturepb.CaptureClient, _ []string) error {
			resp, err := client.List(ctx, &capturepb.ListRequest{})
			if err != nil {
				return fmt.Errorf("list captures: %w", err)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNODE\tSTATE\tSTARTED\tPACKETS\tBYTES\tEND\tINTERFACES")
			for _, c := range resp.GetCaptures() {
				end := "-"
				if c.GetState() == capturepb.State_STATE_ENDED {
					end = c.GetEndReason().String()
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\n", c.GetId(), c.GetNode(), c.GetState(),
					c.GetStarted().AsTime().Local().Format(time.DateTime), c.GetProgress().GetPackets(), c.GetProgress().GetBytes(), end, len(c.GetInterfaces()))
			}
			return w.Flush()
		})
}

func newCaptureStopCommand() *cobra.Command {
	return newClientCommand("stop ID", "Stop a capture on every node that runs it", cobra.ExactArgs(1), nil,
		func(ctx context.Context, _ *slog.Logger, client capturepb.CaptureClient, args []string) error {
			resp, err := client.Stop(ctx, &capturepb.StopRequest{Id: args[0]})
			if err != nil {
				return fmt.Errorf("stop capture: %w", err)
			}
			fmt.Printf("capture %s stopped on %d nodes\n", args[0], len(resp.GetNodes()))
			return nil
		})
}
