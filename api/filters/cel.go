package filters

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
)

// celFlowVariable names the flow in expressions; Hubble picked "_flow"
// because "flow" is the protobuf package (the expression container), so
// expressions read e.g. `_flow.verdict == Verdict.DROPPED`.
const celFlowVariable = "_flow"

// celEnv is built once: it only depends on the flow protobuf schema.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Container("flow"),
		cel.Types(&flowpb.Flow{}),
		cel.Variable(celFlowVariable, cel.ObjectType("flow.Flow")),
		cel.ParserExpressionSizeLimit(MaxCELExpressionSize),
	)
})

// celProgramOptions bound the evaluation of an expression on one flow and
// compile constant `matches` patterns once, not per flow.
var celProgramOptions = []cel.ProgramOption{
	cel.CostLimit(CELCostLimit),
	cel.EvalOptions(cel.OptOptimize),
}

func buildCEL(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	exprs := slices.Clone(ff.GetExperimental().GetCelExpression())
	if len(exprs) == 0 {
		return nil, nil
	}
	p, err := compileCEL(exprs, &c.budget, c.log)
	if err != nil {
		return nil, err
	}
	return []Func{onFlow(p)}, nil
}

// compileCEL compiles boolean expressions into a predicate matching flows
// for which any expression is true; an expression failing on a flow
// (including by exceeding CELCostLimit) does not match it. The expressions
// and their `matches` patterns are charged to b.
func compileCEL(exprs []string, b *budget, log *slog.Logger) (flowFunc, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("experimental.cel_expression: create CEL environment: %w", err)
	}
	programs := make([]cel.Program, 0, len(exprs))
	for _, x := range exprs {
		if err := b.takeCELExpression(); err != nil {
			return nil, fmt.Errorf("experimental.cel_expression: %w", err)
		}
		ast, iss := env.Compile(x)
		if err := iss.Err(); err != nil {
			return nil, fmt.Errorf("experimental.cel_expression: compile %s: %w", quoted(x), err)
		}
		if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
			return nil, fmt.Errorf("experimental.cel_expression: %s has type %s, want bool", quoted(x), t)
		}
		if err := b.checkCELPatterns(ast); err != nil {
			return nil, fmt.Errorf("experimental.cel_expression: %s: %w", quoted(x), err)
		}
		prg, err := env.Program(ast, celProgramOptions...)
		if err != nil {
			return nil, fmt.Errorf("experimental.cel_expression: build program for %s: %w", quoted(x), err)
		}
		programs = append(programs, prg)
	}
	return func(f *flowpb.Flow) bool {
		if f == nil {
			return false
		}
		for i, prg := range programs {
			out, _, err := prg.Eval((*celActivation)(f))
			if err != nil {
				log.Debug("CEL expression failed on a flow", "expression", exprs[i], "error", err)
				continue
			}
			if b, ok := out.Value().(bool); ok && b {
				return true
			}
		}
		return false
	}, nil
}

// celActivation binds the flow variable; a pointer conversion of the flow,
// so binding it does not allocate.
type celActivation flowpb.Flow

func (a *celActivation) ResolveName(name string) (any, bool) {
	if name != celFlowVariable {
		return nil, false
	}
	return (*flowpb.Flow)(a), true
}

func (a *celActivation) Parent() interpreter.Activation { return nil }
