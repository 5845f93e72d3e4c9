package flowlogs

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
)

// FuzzParseLine feeds arbitrary lines through the text reader: it must
// never panic, and every column must keep the batch's row count.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA",
		"version srcaddr bytes\n5 ::1 12",
		`{"message":"2 1 eni-1 ::ffff:1.2.3.4 1::2 1 2 6 1 1 1 2 ACCEPT OK"}`,
		"2 1 e 1.2.3.4 1::2::3 1 2 6 1 1 1 2 ACCEPT OK",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader("fuzz", bytes.NewReader(data), Options{BatchRows: 7})
		if err != nil {
			return
		}
		defer rd.Close()
		b := NewBatch()
		for {
			n, err := rd.Next(b)
			if err != nil {
				break
			}
			for _, c := range b.Input() {
				if c.Data.Rows() != n {
					t.Fatalf("column %s has %d rows, batch %d", c.Name, c.Data.Rows(), n)
				}
			}
		}
		st := rd.Stats()
		if st.Read != st.Stored+st.Rejected {
			t.Fatalf("stats %+v do not add up", st)
		}
	})
}

// FuzzParseIP checks the hand-written address parser against net/netip.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got proto.IPv6
		ok := parseIP([]byte(s), &got)
		want, err := netip.ParseAddr(s)
		if err == nil && want.Zone() == "" {
			if !ok || got != want.As16() {
				t.Fatalf("parseIP(%q) = %v, %v; netip says %v", s, netip.AddrFrom16(got), ok, want)
			}
		}
		// Only octets with leading zeros may be accepted where netip
		// refuses: AWS never writes them, and they are unambiguous.
		if ok && err != nil && !strings.Contains(err.Error(), "leading zero") {
			t.Fatalf("parseIP(%q) accepted what netip refuses: %v", s, err)
		}
	})
}

// FuzzSplitFields checks the word-at-a-time splitter against the simple
// one on lines without tabs.
func FuzzSplitFields(f *testing.F) {
	f.Add([]byte("2 123 eni-1  10.0.0.1 -  x"))
	f.Add([]byte("  a!  !b c "))
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.ReplaceAll(line, []byte{'\t'}, nil)
		var a, b [maxLineFields][]byte
		clean := true
		for _, c := range line {
			if c < ' ' {
				clean = false
			}
		}
		na := splitFields(line, &a)
		if !clean {
			return
		}
		nb := splitFieldsSlow(line, &b)
		if na != nb {
			t.Fatalf("%q: %d fields, slow path %d", line, na, nb)
		}
		for i := range min(na, maxLineFields) {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatalf("%q: field %d is %q, slow path %q", line, i, a[i], b[i])
			}
		}
	})
}

// FuzzHasControl checks the word-at-a-time control byte test against a
// byte loop.
func FuzzHasControl(f *testing.F) {
	f.Add([]byte("2 123 eni-1\t10.0.0.1"))
	f.Add([]byte("abcdefgh\x00ijklmnop"))
	f.Add([]byte("\xff\xfe\x80\x9f abc \x1f"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var want byte
		found := false
		for _, c := range line {
			if c < 0x20 && c != '\t' {
				want, found = c, true
				break
			}
		}
		got, ok := hasControl(line)
		if ok != found || got != want {
			t.Fatalf("hasControl(%q) = %#x, %v; want %#x, %v", line, got, ok, want, found)
		}
	})
}
