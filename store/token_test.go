package store

import "testing"

func TestToken(t *testing.T) {
	// Length prefixes: moving a boundary changes the token.
	if Token("ab", "c") == Token("a", "bc") || Token("a", "") == Token("a") {
		t.Fatal("parts are not length-prefixed")
	}
	if Token("x", "y") != Token("x", "y") {
		t.Fatal("not deterministic")
	}
	if got := len(Token()); got != 64 {
		t.Fatalf("want 64 hex digits, got %d", got)
	}
}
