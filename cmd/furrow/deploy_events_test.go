package main

import "testing"

// TestNormRepo: the forms a catalog project's repos take reduce to the
// owner/name GitHub's webhook gives.
func TestNormRepo(t *testing.T) {
	for in, want := range map[string]string{
		"acme/checkout-api":                        "acme/checkout-api",
		"https://github.com/Acme/checkout-api.git": "acme/checkout-api",
		"github.com/acme/checkout-api/":            "acme/checkout-api",
		"git@github.com:acme/checkout-api.git":     "acme/checkout-api",
		"ssh://git@github.com/acme/checkout-api":   "acme/checkout-api",
		"checkout-api":                             "checkout-api",
	} {
		if got := normRepo(in); got != want {
			t.Errorf("normRepo(%q) = %q, want %q", in, got, want)
		}
	}
}
