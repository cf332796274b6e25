// Package event owns Event, the view of one ring record that filters and the
// observer work with. An Event answers cheap questions straight from the
// compact record and builds the full flow.Flow only when asked, at most once.
package event
