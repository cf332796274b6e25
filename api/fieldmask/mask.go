package fieldmask

import (
	"errors"
	"fmt"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Mask selects fields of a flow.Flow. A nil Mask selects everything.
type Mask struct {
	fields []field
}

// field is one selected field; children nil means the whole field.
type field struct {
	fd       protoreflect.FieldDescriptor
	children []field
}

var flowDescriptor = (&flowpb.Flow{}).ProtoReflect().Descriptor()

// FromProto compiles a request's field mask. A nil or empty mask yields a nil
// Mask, which selects every field.
func FromProto(fm *fieldmaskpb.FieldMask) (*Mask, error) {
	if len(fm.GetPaths()) == 0 {
		return nil, nil
	}
	return New(fm.GetPaths()...)
}

// New compiles paths such as "source.namespace" against flow.Flow. A path
// naming a message selects it whole, including any narrower path below it.
func New(paths ...string) (*Mask, error) {
	root := &tree{}
	for _, p := range paths {
		if err := root.add(flowDescriptor, p); err != nil {
			return nil, err
		}
	}
	if len(root.order) == 0 {
		return nil, nil
	}
	return &Mask{fields: root.compile()}, nil
}

// Active reports whether applying m changes anything.
func (m *Mask) Active() bool { return m != nil && len(m.fields) > 0 }

// Apply returns a new Flow with only the fields m selects, set from src.
// Selected sub-messages and lists are shared with src, not copied, so the
// result must be treated as read-only like src. A nil or inactive m returns
// src itself.
func (m *Mask) Apply(src *flowpb.Flow) *flowpb.Flow {
	if !m.Active() || src == nil {
		return src
	}
	dst := &flowpb.Flow{}
	copyFields(dst.ProtoReflect(), src.ProtoReflect(), m.fields)
	return dst
}

func copyFields(dst, src protoreflect.Message, fields []field) {
	for i := range fields {
		f := &fields[i]
		if !src.Has(f.fd) {
			continue
		}
		if f.children == nil {
			dst.Set(f.fd, src.Get(f.fd))
			continue
		}
		copyFields(dst.Mutable(f.fd).Message(), src.Get(f.fd).Message(), f.children)
	}
}

// tree collects validated paths before compiling them into fields: whole
// marks fields selected entirely, sub holds the narrower selections.
type tree struct {
	order []protoreflect.FieldDescriptor
	sub   map[protoreflect.Name]*tree
	whole map[protoreflect.Name]bool
}

func (t *tree) add(md protoreflect.MessageDescriptor, path string) error {
	if path == "" {
		return errors.New("field mask path is empty")
	}
	cur, rest := t, path
	for {
		name, tail, nested := strings.Cut(rest, ".")
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return fmt.Errorf("field mask path %q: %s has no field %q", path, md.FullName(), name)
		}
		if !nested {
			cur.pick(fd, true)
			return nil
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return fmt.Errorf("field mask path %q: field %q of %s has no sub-fields", path, name, md.FullName())
		}
		next := cur.pick(fd, false)
		if next == nil {
			// Already selected whole; the narrower path adds nothing, but
			// the rest must still name real fields.
			next = &tree{}
		}
		cur, rest, md = next, tail, fd.Message()
	}
}

// pick records fd and returns its sub-tree, or nil once fd is selected
// whole.
func (t *tree) pick(fd protoreflect.FieldDescriptor, whole bool) *tree {
	if t.sub == nil {
		t.sub, t.whole = map[protoreflect.Name]*tree{}, map[protoreflect.Name]bool{}
	}
	name := fd.Name()
	if _, seen := t.sub[name]; !seen && !t.whole[name] {
		t.order = append(t.order, fd)
	}
	if whole || t.whole[name] {
		t.whole[name] = true
		delete(t.sub, name)
		return nil
	}
	s := t.sub[name]
	if s == nil {
		s = &tree{}
		t.sub[name] = s
	}
	return s
}

func (t *tree) compile() []field {
	out := make([]field, 0, len(t.order))
	for _, fd := range t.order {
		f := field{fd: fd}
		if !t.whole[fd.Name()] {
			f.children = t.sub[fd.Name()].compile()
		}
		out = append(out, f)
	}
	return out
}
