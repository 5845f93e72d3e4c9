package posmemo

import "testing"

func TestMemoRounds(t *testing.T) {
	var m Memo[string]
	m.Begin(4)
	if _, ok := m.Get(2); ok {
		t.Fatal("empty memo answered")
	}
	m.Set(2, "two")
	if v, ok := m.Get(2); !ok || v != "two" {
		t.Fatalf("Get(2) = %q, %v", v, ok)
	}
	m.Begin(8) // a new round, over a larger table
	for p := range uint32(8) {
		if _, ok := m.Get(p); ok {
			t.Fatalf("position %d remembered across rounds", p)
		}
	}
	m.Set(7, "seven")
	if v, ok := m.Get(7); !ok || v != "seven" {
		t.Fatalf("Get(7) = %q, %v", v, ok)
	}
	// The round counter wraps without old stamps matching.
	m.gen = ^uint32(0)
	m.Set(1, "old")
	m.Begin(8)
	if _, ok := m.Get(1); ok {
		t.Fatal("stamp from before the wrap matched")
	}
}
