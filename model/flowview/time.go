package flowview

import "time"

func timeOf(e *Flow) time.Time { return time.Unix(0, e.Rec.Time) }

// Time returns when the event happened.
func (e *Flow) Time() time.Time { return timeOf(e) }
