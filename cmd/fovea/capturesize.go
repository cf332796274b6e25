package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// byteSize is a flag of bytes written as 50MB, 1.5GiB or 4096.
type byteSize uint64

var sizePattern = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?$`)

var sizeUnits = map[string]float64{
	"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
	"ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40,
}

func (b *byteSize) Set(s string) error {
	m := sizePattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return fmt.Errorf("%q is not a size such as 4096, 50MB or 1GiB", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return fmt.Errorf("%q is not a size: %w", s, err)
	}
	*b = byteSize(v * sizeUnits[m[2]])
	return nil
}

func (b *byteSize) String() string { return strconv.FormatUint(uint64(*b), 10) }
func (b *byteSize) Type() string   { return "size" }
