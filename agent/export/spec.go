package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/api/fieldmask"
	"github.com/foveanet/fovea/api/filters"
)

// The rotation defaults are Cilium's.
const (
	DefaultFileMaxSizeMB  = 10
	DefaultFileMaxBackups = 5
)

// Spec describes one flow log, in the shape and JSON names of an entry of
// Cilium's dynamic exporter configuration (flowLogs).
type Spec struct {
	Name     string `json:"name"`
	FilePath string `json:"filePath"`
	// FieldMask lists the flow fields written; empty writes all of them.
	FieldMask []string `json:"fieldMask,omitempty"`
	// IncludeFilters and ExcludeFilters select the flows written: those
	// matching any include filter (all, if none) and no exclude filter.
	IncludeFilters []*flowpb.FlowFilter `json:"includeFilters,omitempty"`
	ExcludeFilters []*flowpb.FlowFilter `json:"excludeFilters,omitempty"`
	// FileMaxSizeMB and FileMaxBackups are zero for the defaults.
	FileMaxSizeMB  int  `json:"fileMaxSizeMb,omitempty"`
	FileMaxBackups int  `json:"fileMaxBackups,omitempty"`
	FileCompress   bool `json:"fileCompress,omitempty"`
	// End stops the log at that time; nil never does.
	End *time.Time `json:"end,omitempty"`
}

// compiled is a Spec's filter and mask.
type compiled struct {
	filter filters.Func
	mask   *fieldmask.Mask
}

// Validate reports what in s would keep the log from running, naming the
// field.
func (s *Spec) Validate() error {
	_, err := s.compile()
	return err
}

// compile checks s and builds its filter and mask; errors name the field.
func (s *Spec) compile() (compiled, error) {
	switch {
	case s.Name == "":
		return compiled{}, errors.New("name: must not be empty")
	case s.FilePath == "":
		return compiled{}, errors.New("filePath: must not be empty")
	case s.FileMaxSizeMB < 0:
		return compiled{}, fmt.Errorf("fileMaxSizeMb: %d is negative", s.FileMaxSizeMB)
	case s.FileMaxBackups < 0:
		return compiled{}, fmt.Errorf("fileMaxBackups: %d is negative", s.FileMaxBackups)
	}
	return compileSelection(s.IncludeFilters, s.ExcludeFilters, s.FieldMask)
}

// ValidateSelection reports what in filters and a field mask would keep
// an exporter from running, naming the field as Spec.Validate does.
func ValidateSelection(include, exclude []*flowpb.FlowFilter, fieldMask []string) error {
	_, err := compileSelection(include, exclude, fieldMask)
	return err
}

// compileSelection builds the filter and mask of what an exporter exports;
// errors name the field as a flow log spec does.
func compileSelection(include, exclude []*flowpb.FlowFilter, fieldMask []string) (compiled, error) {
	filter, err := filters.Build(include, exclude)
	if err != nil {
		// Build names the lists as a request's whitelist and blacklist.
		msg := strings.NewReplacer("whitelist", "includeFilters", "blacklist", "excludeFilters").Replace(err.Error())
		return compiled{}, errors.New(msg)
	}
	mask, err := fieldmask.New(fieldMask...)
	if err != nil {
		return compiled{}, fmt.Errorf("fieldMask: %w", err)
	}
	return compiled{filter: filter, mask: mask}, nil
}

// fileOptions are s's rotation settings, defaults filled in.
func (s *Spec) fileOptions() FileOptions {
	o := FileOptions{MaxSizeMB: s.FileMaxSizeMB, MaxBackups: s.FileMaxBackups, Compress: s.FileCompress}
	if o.MaxSizeMB == 0 {
		o.MaxSizeMB = DefaultFileMaxSizeMB
	}
	if o.MaxBackups == 0 {
		o.MaxBackups = DefaultFileMaxBackups
	}
	return o
}

// ParseFilters reads FlowFilters as Cilium's --hubble-export-allowlist and
// --hubble-export-denylist take them: JSON objects one after the other,
// separated by white space.
func ParseFilters(s string) ([]*flowpb.FlowFilter, error) {
	var out []*flowpb.FlowFilter
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode flow filter %d: %w", len(out), err)
		}
		var f flowpb.FlowFilter
		if err := protojson.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("decode flow filter %d: %w", len(out), err)
		}
		out = append(out, &f)
	}
}

// equal reports whether s and o describe the same log, so that a reload
// leaves it running untouched.
func (s *Spec) equal(o *Spec) bool {
	return s.Name == o.Name && s.FilePath == o.FilePath && slices.Equal(s.FieldMask, o.FieldMask) &&
		filtersEqual(s.IncludeFilters, o.IncludeFilters) && filtersEqual(s.ExcludeFilters, o.ExcludeFilters) &&
		s.FileMaxSizeMB == o.FileMaxSizeMB && s.FileMaxBackups == o.FileMaxBackups &&
		s.FileCompress == o.FileCompress && timesEqual(s.End, o.End)
}

func filtersEqual(a, b []*flowpb.FlowFilter) bool {
	return slices.EqualFunc(a, b, func(x, y *flowpb.FlowFilter) bool { return proto.Equal(x, y) })
}

func timesEqual(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
