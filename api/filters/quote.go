package filters

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted bounds how much of a bad value an error repeats: enough to find
// it, not the megabytes a client may have sent.
const maxQuoted = 80

// quoted returns v quoted for an error message, cut to maxQuoted bytes.
func quoted(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "… (" + strconv.Itoa(len(v)) + " bytes)"
}
