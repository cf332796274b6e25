package image

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Instruction is one Dockerfile instruction: its keyword, upper-cased, and
// the rest of its (joined) lines.
type Instruction struct {
	Cmd, Args string
}

// Stage is the instructions of one FROM up to the next.
type Stage struct {
	// Base is the image FROM names; Name is what AS names the stage.
	Base, Name   string
	Instructions []Instruction
}

// ReadDockerfile splits the Dockerfile at path into its stages. It reads
// the subset of the syntax Fovea's Dockerfile uses: comments, line
// continuations, `FROM image [AS name]`; anything else before the first
// FROM is an error.
func ReadDockerfile(path string) ([]Stage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var stages []Stage
	var line strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if line.Len() == 0 && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(text)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		line.Reset()
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := Stage{Base: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = f[2]
			} else if len(f) != 1 {
				return nil, fmt.Errorf("%s: FROM %s: want FROM image [AS name]", path, in.Args)
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s: %s before the first FROM", path, in.Cmd)
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if line.Len() > 0 {
		return nil, fmt.Errorf("%s: ends in a line continuation", path)
	}
	return stages, nil
}
