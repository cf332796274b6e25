// Package flowview owns Flow, the view of one ring record that filters and
// the observer work with. A Flow answers cheap questions straight from the
// compact record and builds the full Hubble flow.Flow only when asked, at
// most once. Node describes the agent's node that every view is built for.
package flowview
