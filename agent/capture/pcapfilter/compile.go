package pcapfilter

import (
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// Compile compiles expr into a program that returns snap for the packets
// it matches (the kernel keeps that many bytes of them) and 0 for the
// others. An empty expr matches every packet. Errors say what in expr
// could not be taken.
func Compile(expr string, snap uint32) ([]bpf.RawInstruction, error) {
	insns := []bpf.Instruction{bpf.RetConstant{Val: snap}}
	if strings.TrimSpace(expr) != "" {
		e, err := parse(expr)
		if err != nil {
			return nil, err
		}
		if insns, err = generate(expand(e), snap); err != nil {
			return nil, err
		}
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return nil, fmt.Errorf("assemble filter: %w", err)
	}
	return raw, nil
}

// item is an instruction whose jumps name labels, resolved once every
// label has its place.
type item struct {
	in     bpf.Instruction // non-jump instruction, or nil
	cond   bpf.JumpIf
	jt, jf int
}

type generator struct {
	items  []item
	labels []int // label → index of the item it precedes
}

func (g *generator) label() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *generator) place(l int) { g.labels[l] = len(g.items) }

// emit generates e so that it jumps to t when it holds and f when not.
// Labels are placed after the code that jumps to them, so every jump
// goes forward, as classic BPF requires.
func (g *generator) emit(e expr, t, f int) {
	switch e := e.(type) {
	case andExpr:
		next := g.label()
		g.emit(e.a, next, f)
		g.place(next)
		g.emit(e.b, t, f)
	case orExpr:
		next := g.label()
		g.emit(e.a, t, next)
		g.place(next)
		g.emit(e.b, t, f)
	case notExpr:
		g.emit(e.a, f, t)
	case atom:
		for _, in := range e.load {
			g.items = append(g.items, item{in: in})
		}
		if e.mask != 0 {
			g.items = append(g.items, item{in: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: e.mask}})
		}
		g.items = append(g.items, item{cond: bpf.JumpIf{Cond: e.test, Val: e.val}, jt: t, jf: f})
	}
}

// generate lays e out and resolves its jumps, failing when one would
// span more than a conditional jump's 255 instructions.
func generate(e expr, snap uint32) ([]bpf.Instruction, error) {
	g := &generator{}
	accept, reject := g.label(), g.label()
	g.emit(e, accept, reject)
	g.place(accept)
	g.items = append(g.items, item{in: bpf.RetConstant{Val: snap}})
	g.place(reject)
	g.items = append(g.items, item{in: bpf.RetConstant{Val: 0}})
	out := make([]bpf.Instruction, len(g.items))
	for i, it := range g.items {
		if it.in != nil {
			out[i] = it.in
			continue
		}
		jt, jf := g.labels[it.jt]-i-1, g.labels[it.jf]-i-1
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("filter too long: a jump spans %d instructions (at most 255)", max(jt, jf))
		}
		c := it.cond
		c.SkipTrue, c.SkipFalse = uint8(jt), uint8(jf)
		out[i] = c
	}
	return out, nil
}
