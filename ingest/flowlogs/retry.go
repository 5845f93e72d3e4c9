package flowlogs

import "time"

// RetryOptions bound the exponential back-off with which the ingester
// reads an object again after a transient store error (a stream that
// failed is re-sent whole under the same tokens, so the engine stores only
// the parts it is missing). Zero fields take the defaults in parentheses.
type RetryOptions struct {
	// Initial is the first pause (200ms).
	Initial time.Duration
	// Max caps one pause (10s).
	Max time.Duration
	// MaxAttempts bounds the attempts of one object, the first included (8).
	MaxAttempts uint
	// MaxElapsed bounds the time spent on one object (2m).
	MaxElapsed time.Duration
}

// WithDefaults fills the zero fields with the defaults.
func (r RetryOptions) WithDefaults() RetryOptions {
	if r.Initial <= 0 {
		r.Initial = 200 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 8
	}
	if r.MaxElapsed <= 0 {
		r.MaxElapsed = 2 * time.Minute
	}
	return r
}
