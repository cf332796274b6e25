package filters

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits on one Build call (one GetFlows request). Hubble has none; without
// them a client can send a filter that costs the agent seconds to compile or
// seconds per flow to evaluate (nested CEL comprehensions, regexps of
// hundreds of thousands of instructions). Each is far above what the hubble
// CLI sends.
const (
	// MaxFilters is the number of filters a whitelist or blacklist may hold.
	MaxFilters = 100
	// MaxValues is the number of values a repeated field of one filter may
	// hold.
	MaxValues = 1000
	// MaxRegexpBytes is the length of the regexp and name patterns of one
	// request (dns_query, http_path, http_url, *_fqdn, node_name) together.
	MaxRegexpBytes = 32 << 10
	// MaxRegexpInsts is the size of their compiled programs together: the
	// per-byte cost of matching is proportional to it.
	MaxRegexpInsts = 32 << 10
	// MaxSelectorBytes is the length of the label selectors of one request
	// (source_label, destination_label, node_labels) together.
	MaxSelectorBytes = 64 << 10
	// MaxCELExpressions is the number of CEL expressions of one request.
	MaxCELExpressions = 8
	// MaxCELExpressionSize is the length of one CEL expression in code
	// points.
	MaxCELExpressionSize = 4096
	// CELCostLimit bounds the cost (cel-go's unit: about one operation or
	// comprehension step) of evaluating one CEL expression on one flow; an
	// expression exceeding it fails and does not match.
	CELCostLimit = 10_000
)

// budget is what remains of the per-request limits while Build compiles.
type budget struct {
	regexpBytes, regexpInsts, selectorBytes, celExpressions int
}

func newBudget() budget {
	return budget{
		regexpBytes:    MaxRegexpBytes,
		regexpInsts:    MaxRegexpInsts,
		selectorBytes:  MaxSelectorBytes,
		celExpressions: MaxCELExpressions,
	}
}

// checkValueCounts rejects repeated fields, at any depth of the filter, with
// more than MaxValues values; the error names the field
// ("experimental.cel_expression: ...").
func checkValueCounts(m protoreflect.Message, prefix string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			if n := v.List().Len(); n > MaxValues {
				err = fmt.Errorf("%s: %d values, at most %d", name, n, MaxValues)
			}
		case fd.Message() != nil && !fd.IsMap():
			err = checkValueCounts(v.Message(), name+".")
		}
		return err == nil
	})
	return err
}

// takeCELExpression charges one CEL expression to the request's budget.
func (b *budget) takeCELExpression() error {
	if b.celExpressions == 0 {
		return fmt.Errorf("the request has more than %d CEL expressions", MaxCELExpressions)
	}
	b.celExpressions--
	return nil
}

// takeSelector charges a label selector of n bytes to the request's budget.
func (b *budget) takeSelector(n int) error {
	if n > b.selectorBytes {
		return fmt.Errorf("the request's label selectors exceed %d bytes", MaxSelectorBytes)
	}
	b.selectorBytes -= n
	return nil
}
