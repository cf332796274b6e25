package filters

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// compileRegexp compiles a regexp, charging its length and program size to
// the request's budget.
func (b *budget) compileRegexp(expr string) (*regexp.Regexp, error) {
	if len(expr) > b.regexpBytes {
		return nil, fmt.Errorf("the request's regular expressions exceed %d bytes", MaxRegexpBytes)
	}
	b.regexpBytes -= len(expr)
	// Parse and compile as regexp.Compile does, to learn the program size
	// before accepting the expression.
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	// Expanding counted repetitions is what makes compiling expensive, so
	// reject by an upper bound of the size first.
	if progFixedInsts+progSizeBound(re, b.regexpInsts) > b.regexpInsts {
		return nil, fmt.Errorf("the request's regular expressions compile to more than %d instructions", MaxRegexpInsts)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	if n := len(prog.Inst); n > b.regexpInsts {
		return nil, fmt.Errorf("the request's regular expressions compile to more than %d instructions", MaxRegexpInsts)
	}
	b.regexpInsts -= len(prog.Inst)
	return regexp.Compile(expr)
}

// progFixedInsts counts the fail and match instructions every program has.
const progFixedInsts = 2

// progSizeBound bounds the number of instructions re compiles to (one per
// node, literal rune and capture end, times repetition counts), saturating
// just above limit.
func progSizeBound(re *syntax.Regexp, limit int) int {
	n := 1
	for _, sub := range re.Sub {
		n += progSizeBound(sub, limit)
	}
	switch re.Op {
	case syntax.OpLiteral:
		n += len(re.Rune)
	case syntax.OpCapture:
		n++
	case syntax.OpRepeat:
		count := max(re.Min, re.Max) + 1
		if n > limit/count {
			return limit + 1
		}
		n *= count
	}
	return min(n, limit+1)
}
