// Package hubbleui holds what Hubble UI's backend sends, so that tests check
// Fovea against the request the UI really makes rather than a paraphrase.
package hubbleui
