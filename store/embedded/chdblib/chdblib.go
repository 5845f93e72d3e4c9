// Package chdblib finds libchdb.so, the embedded ClickHouse engine, when
// furrow starts, and checks that it is one.
//
// A missing library, or a file that is there but is not a loadable
// libchdb.so (a text file, an empty download, another program), makes
// every furrow command exit at once with what is wrong and the command that
// fixes it, after a look at the file's ELF header and dynamic symbols
// (elf.go), before anything loads it. store/embedded then opens Path with
// dlopen (capi.go). The package also sets CHDB_LIB_PATH to Path for tools
// that look there.
//
// It runs in a package init, before flags are parsed (it reads --chdb-lib
// from /proc/self/cmdline). Keep its imports to syscall (no os, fmt,
// strings): package os is not initialized yet when this package's init
// runs before it, which is what lets it run before any other package.
//
// Lookup order: env FURROW_CHDB_LIB, the --chdb-lib flag, env CHDB_LIB_PATH,
// the furrow cache ($XDG_CACHE_HOME/furrow or ~/.cache/furrow, filled by
// `make setup`), then /usr/local/lib and /usr/lib.
package chdblib

import "syscall"

// Path is the library file the embedded store loads; empty when none was found (the
// process has then already exited, unless Disabled).
var Path string

// Source says where Path came from (for `furrow version` and errors).
var Source string

// Tried lists the places looked at, in order.
var Tried []string

// CacheRelPath is where `make setup` puts the library under the furrow cache.
const CacheRelPath = "chdb/current/libchdb.so"

// FixHint is the command that installs the library.
const FixHint = "run `make setup` in the furrow repository (it fetches @chdb/lib-linux-x64-gnu with npm pack into ~/.cache/furrow), or point FURROW_CHDB_LIB / --chdb-lib / store.embedded.chdb_lib at an existing libchdb.so"

func init() {
	args := cmdline()
	candidates := []struct{ path, source string }{
		{getenv("FURROW_CHDB_LIB"), "FURROW_CHDB_LIB"},
		{flagValue(args, "--chdb-lib"), "--chdb-lib"},
		{getenv("CHDB_LIB_PATH"), "CHDB_LIB_PATH"},
	}
	if c := getenv("FURROW_CACHE"); c != "" {
		candidates = append(candidates, struct{ path, source string }{c + "/" + CacheRelPath, "furrow cache"})
	}
	if x := getenv("XDG_CACHE_HOME"); x != "" {
		candidates = append(candidates, struct{ path, source string }{x + "/furrow/" + CacheRelPath, "furrow cache"})
	}
	if h := getenv("HOME"); h != "" {
		candidates = append(candidates, struct{ path, source string }{h + "/.cache/furrow/" + CacheRelPath, "furrow cache"})
	}
	candidates = append(candidates,
		struct{ path, source string }{"/usr/local/lib/libchdb.so", "standard path"},
		struct{ path, source string }{"/usr/lib/libchdb.so", "standard path"},
	)
	for _, c := range candidates {
		if c.path == "" {
			continue
		}
		Tried = append(Tried, c.path)
		if isFile(c.path) {
			// Whatever is found first is what chdb-go would dlopen, so a
			// wrong file stops here with a reason instead of a panic.
			if problem := checkLibrary(c.path); problem != "" {
				fail(c.path + " (from " + c.source + ") " + problem)
			}
			Path, Source = c.path, c.source
			break
		}
		if c.source != "furrow cache" && c.source != "standard path" {
			// An explicit setting that points nowhere is an error, not a
			// reason to silently load another library.
			fail("libchdb.so not found at " + c.path + " (from " + c.source + ")")
		}
	}
	if Path == "" {
		msg := "the embedded ClickHouse engine (libchdb.so) was not found; looked in:"
		for _, t := range Tried {
			msg += "\n  " + t
		}
		fail(msg)
	}
	_ = syscall.Setenv("CHDB_LIB_PATH", Path)
}

func fail(msg string) {
	out := "furrow: " + msg + "\nfix: " + FixHint + "\n"
	_, _ = syscall.Write(2, []byte(out))
	syscall.Exit(1)
}

func getenv(k string) string {
	v, _ := syscall.Getenv(k)
	return v
}

func isFile(p string) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFREG
}

// cmdline reads this process's arguments from /proc (os.Args is not
// available yet: package os is initialized after this package).
func cmdline() []string {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var data []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if n > 0 {
			data = append(data, buf[:n]...)
		}
		if err != nil || n <= 0 {
			break
		}
	}
	var args []string
	start := 0
	for i, b := range data {
		if b == 0 {
			args = append(args, string(data[start:i]))
			start = i + 1
		}
	}
	return args
}

// flagValue returns the value of --name=v or --name v in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--" {
			return ""
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if len(a) > len(name)+1 && a[:len(name)+1] == name+"=" {
			return a[len(name)+1:]
		}
	}
	return ""
}
