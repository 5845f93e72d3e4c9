package chdblib

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLibrary(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// /bin/true is a position-independent program: an ELF shared object of
	// this CPU, like the library, but without chdb's symbols.
	pie, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile("/proc/self/exe") // the test binary: ET_EXEC
	if err != nil {
		t.Fatal(err)
	}
	header := func(class, data byte, typ, machine uint16) []byte {
		h := make([]byte, 64)
		copy(h, "\x7fELF")
		h[4], h[5], h[6] = class, data, 1
		h[16], h[17] = byte(typ), byte(typ>>8)
		h[18], h[19] = byte(machine), byte(machine>>8)
		return h
	}
	cases := []struct {
		name, path, want string
		needsMachine     bool // the case relies on the CPU check (off when elfMachine is 0)
	}{
		{"missing", filepath.Join(dir, "nope.so"), "cannot be opened", false},
		{"empty", write("empty.so", nil), "empty file", false},
		{"text", write("README.md", []byte("# not a library\n")), "text file", false},
		{"binary junk", write("junk.so", []byte{0, 1, 2, 3, 4, 5, 6, 7}), "no ELF header", false},
		{"truncated header", write("short.so", []byte("\x7fELF\x02\x01\x01")), "truncated ELF file", false},
		{"32-bit", write("x86.so", header(1, 1, 3, 3)), "32-bit", false},
		{"big-endian", write("be.so", header(2, 2, 3, 62)), "big-endian", false},
		{"object file", write("x.o", header(2, 1, 1, elfMachine)), "object file", false},
		{"other CPU", write("riscv.so", header(2, 1, 3, 243)), "another CPU", true},
		{"no sections", write("nosect.so", header(2, 1, 3, elfMachine)), "no section headers", false},
		{"executable", write("exe", exe), "executable, not a shared library", false},
		{"another program", write("true", pie), "is not libchdb.so: it does not define chdb_connect (another program or library?)", false},
		{"program cut short", write("cut", pie[:len(pie)*3/4]), "truncated", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needsMachine && elfMachine == 0 {
				t.Skip("no ELF machine to compare with on this architecture")
			}
			got := checkLibrary(c.path)
			if !strings.Contains(got, c.want) {
				t.Fatalf("checkLibrary(%s) = %q, want it to contain %q", c.name, got, c.want)
			}
		})
	}
	t.Run("the loaded library", func(t *testing.T) {
		// Path passed init's check, so the check accepts the real library.
		if got := checkLibrary(Path); got != "" {
			t.Fatalf("checkLibrary(%s) = %q, want no problem", Path, got)
		}
	})
}

func TestItoa(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 62: "62", -183: "-183", 9223372036854775807: "9223372036854775807"} {
		if got := itoa(n); got != want {
			t.Fatalf("itoa(%d) = %q, want %q", n, got, want)
		}
	}
}
