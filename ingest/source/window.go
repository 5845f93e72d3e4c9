package source

import "time"

// Window bounds the data time of the objects to list: Since is inclusive,
// Until exclusive, a zero bound is open. Data time comes from the key (see
// ParseKey); an object whose key tells no time is listed only when both
// bounds are open, since nothing proves it falls inside.
type Window struct {
	Since, Until time.Time
}

// Open reports whether neither bound is set.
func (w Window) Open() bool { return w.Since.IsZero() && w.Until.IsZero() }

// Overlaps reports whether data in [start, start+span) may fall inside w. A
// zero span is an instant (a file-name time stamp).
func (w Window) Overlaps(start time.Time, span time.Duration) bool {
	if start.IsZero() {
		return w.Open()
	}
	end := start.Add(span)
	if !w.Until.IsZero() && !start.Before(w.Until) {
		return false
	}
	if w.Since.IsZero() {
		return true
	}
	if span == 0 {
		return !start.Before(w.Since)
	}
	return end.After(w.Since)
}

// days returns the UTC days that overlap w, or nil when w is open on either
// side or covers more than max days.
func (w Window) days(max int) []time.Time {
	if w.Since.IsZero() || w.Until.IsZero() || !w.Since.Before(w.Until) {
		return nil
	}
	first := w.Since.UTC().Truncate(24 * time.Hour)
	var out []time.Time
	for d := first; d.Before(w.Until); d = d.AddDate(0, 0, 1) {
		if len(out) == max {
			return nil
		}
		out = append(out, d)
	}
	return out
}
