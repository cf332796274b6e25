package event

import "time"

func timeOf(e *Event) time.Time { return time.Unix(0, e.Rec.Time) }

// Time returns when the event happened.
func (e *Event) Time() time.Time { return timeOf(e) }
