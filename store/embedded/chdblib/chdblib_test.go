package chdblib

import "testing"

func TestFlagValue(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"equals", []string{"furrow", "sql", "--chdb-lib=/x/libchdb.so"}, "/x/libchdb.so"},
		{"separate", []string{"furrow", "--chdb-lib", "/y.so", "sql"}, "/y.so"},
		{"absent", []string{"furrow", "sql", "SELECT 1"}, ""},
		{"after dashdash", []string{"furrow", "--", "--chdb-lib=/z"}, ""},
		{"prefix only", []string{"furrow", "--chdb-library=/z"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := flagValue(c.args, "--chdb-lib"); got != c.want {
				t.Fatalf("flagValue(%q) = %q, want %q", c.args, got, c.want)
			}
		})
	}
}

func TestResolvedBeforeChdbGo(t *testing.T) {
	// In a test binary the library was resolved by init; the test would not
	// run at all otherwise.
	if Path == "" || Source == "" {
		t.Fatalf("Path=%q Source=%q", Path, Source)
	}
}
