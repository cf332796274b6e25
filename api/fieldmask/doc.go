// Package fieldmask owns Mask, a validated Hubble field mask
// (GetFlowsRequest.experimental.field_mask) compiled against the flow.Flow
// descriptor. Applying a mask builds a new Flow holding only the selected
// fields; the input is never modified because flows share interned
// sub-messages.
package fieldmask
