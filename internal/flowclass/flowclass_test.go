package flowclass

import "testing"

// TestAllListsEachClassOnce: All is what the reports accept as a filter, so
// a class missing from it could be written by the ingest and never be
// selectable.
func TestAllListsEachClassOnce(t *testing.T) {
	want := []string{SameZone, CrossZone, CrossRegion, InternetEgress, InternetIngress, NATGateway, AWSService, Unknown}
	seen := map[string]int{}
	for _, c := range All {
		seen[c]++
	}
	for _, c := range want {
		if seen[c] != 1 {
			t.Errorf("class %q is in All %d times", c, seen[c])
		}
	}
	if len(All) != len(want) {
		t.Errorf("All has %d classes, want %d", len(All), len(want))
	}
}
