package filters

import (
	"errors"
	"fmt"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
)

// checkCELPatterns requires the pattern of every `matches` call to be a
// string literal and charges it to the regexp budget. A pattern computed
// per flow would be compiled on every evaluation, and CEL's cost model
// prices a regexp by its length, not its program size, so neither the cost
// limit nor the budget would bound it; a literal is compiled once
// (cel.OptOptimize).
func (b *budget) checkCELPatterns(ast *cel.Ast) error {
	calls := celast.MatchDescendants(celast.NavigateAST(ast.NativeRep()), celast.FunctionMatcher("matches"))
	for _, e := range calls {
		args := e.AsCall().Args()
		if len(args) == 0 {
			continue
		}
		// The pattern is the last argument of both s.matches(p) and matches(s, p).
		pattern := args[len(args)-1]
		if pattern.Kind() != celast.LiteralKind {
			return errors.New("the pattern of matches() must be a string literal")
		}
		p, ok := pattern.AsLiteral().Value().(string)
		if !ok {
			return errors.New("the pattern of matches() must be a string literal")
		}
		if _, err := b.compileRegexp(p); err != nil {
			return fmt.Errorf("matches(%s): %w", quoted(p), err)
		}
	}
	return nil
}
