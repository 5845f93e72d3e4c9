package chdblib

import "syscall"

// requiredSymbols are the functions of libchdb's C API that store/embedded
// binds (capi.go); a file that lacks any of them is not a usable library.
var requiredSymbols = []string{
	"chdb_connect", "chdb_close_conn", "chdb_query", "chdb_stream_query",
	"chdb_stream_fetch_result", "chdb_stream_cancel_query",
	"chdb_destroy_query_result", "chdb_result_buffer", "chdb_result_length",
	"chdb_result_error",
}

// ELF constants (see elf(5)); debug/elf is not importable here (it imports
// os, which would break the initialization order this package relies on).
const (
	elfHeaderSize = 64 // ELF64 header
	elfClass64    = 2
	elfData2LSB   = 1
	etDyn         = 3
	shtDynsym     = 11
	symEntSize    = 24 // Elf64_Sym
	// maxDynstr bounds what is read of the dynamic string table: libchdb's
	// is 7 KB (26.5), so 64 MiB only guards against a corrupt size field.
	maxDynstr = 64 << 20
)

// checkLibrary returns "" when path is a 64-bit little-endian ELF shared
// object for this CPU that defines every symbol furrow binds, and
// otherwise says what the file is instead. It reads the ELF header, the
// section headers and the dynamic symbol table only: a few KB of a 530 MB
// library. dlopen is the final word, but the loader may already have run a
// wrong file's constructors by then, so the checks a wrong file fails (a
// text file, an empty or truncated download, another program or library)
// are done before it, when furrow starts.
func checkLibrary(path string) string {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "cannot be opened: " + err.Error()
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return "cannot be read: " + err.Error()
	}
	if st.Size == 0 {
		return "is an empty file (an interrupted download?)"
	}
	h := make([]byte, elfHeaderSize)
	if n, _ := syscall.Pread(fd, h, 0); n < 4 || string(h[:4]) != "\x7fELF" {
		if looksLikeText(h[:max(n, 0)]) {
			return "is a text file, not a shared library"
		}
		return "is not a shared library (no ELF header)"
	} else if n < elfHeaderSize {
		return "is a truncated ELF file (" + itoa(int64(n)) + " bytes)"
	}
	switch {
	case h[4] != elfClass64:
		return "is a 32-bit ELF file; furrow needs the 64-bit libchdb.so"
	case h[5] != elfData2LSB:
		return "is a big-endian ELF file; furrow needs the little-endian libchdb.so"
	case le16(h[16:]) != etDyn:
		return "is an ELF " + elfType(le16(h[16:])) + ", not a shared library"
	case elfMachine != 0 && le16(h[18:]) != elfMachine:
		return "is a shared library for another CPU (ELF machine " + itoa(int64(le16(h[18:]))) + "), not for " + archName
	}
	names, problem := dynamicSymbols(fd, h, st.Size)
	if problem != "" {
		return problem
	}
	for _, want := range requiredSymbols {
		if !names[want] {
			return "is not libchdb.so: it does not define " + want + " (another program or library?)"
		}
	}
	return ""
}

// dynamicSymbols returns the names of the symbols a shared object defines
// (its .dynsym entries with a section index), which is what dlsym finds.
func dynamicSymbols(fd int, h []byte, size int64) (map[string]bool, string) {
	shoff, shentsize, shnum := int64(le64(h[40:])), int64(le16(h[58:])), int64(le16(h[60:]))
	if shoff == 0 || shnum == 0 || shentsize < 64 || shoff+shnum*shentsize > size {
		return nil, "is a truncated or stripped shared library (no section headers)"
	}
	sh := make([]byte, shnum*shentsize)
	if n, _ := syscall.Pread(fd, sh, shoff); int64(n) != int64(len(sh)) {
		return nil, "is a truncated shared library (section headers cut off)"
	}
	section := func(i int64) (typ uint32, off, sz, link int64) {
		s := sh[i*shentsize:]
		return le32(s[4:]), int64(le64(s[24:])), int64(le64(s[32:])), int64(le32(s[40:]))
	}
	for i := int64(0); i < shnum; i++ {
		typ, symOff, symSize, link := section(i)
		if typ != shtDynsym {
			continue
		}
		if link >= shnum {
			return nil, "is a corrupt shared library (bad dynamic string table index)"
		}
		_, strOff, strSize, _ := section(link)
		if symOff+symSize > size || strOff+strSize > size || strSize > maxDynstr || symSize > maxDynstr {
			return nil, "is a truncated shared library (symbol table cut off)"
		}
		syms := make([]byte, symSize)
		strs := make([]byte, strSize)
		if n, _ := syscall.Pread(fd, syms, symOff); int64(n) != symSize {
			return nil, "is a truncated shared library (symbol table cut off)"
		}
		if n, _ := syscall.Pread(fd, strs, strOff); int64(n) != strSize {
			return nil, "is a truncated shared library (symbol names cut off)"
		}
		names := map[string]bool{}
		for s := syms; len(s) >= symEntSize; s = s[symEntSize:] {
			name, shndx := int64(le32(s)), le16(s[6:])
			if shndx == 0 || name >= strSize { // undefined: imported, not exported
				continue
			}
			end := name
			for end < strSize && strs[end] != 0 {
				end++
			}
			names[string(strs[name:end])] = true
		}
		return names, ""
	}
	return nil, "is a shared library without a dynamic symbol table"
}

func elfType(t uint16) string {
	switch t {
	case 1:
		return "object file (.o)"
	case 2:
		return "executable"
	case 4:
		return "core dump"
	}
	return "file of type " + itoa(int64(t))
}

// looksLikeText reports whether b is printable ASCII or UTF-8 text, to say
// "text file" for the common mistake of pointing at a README or a script.
func looksLikeText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 { return uint32(le16(b)) | uint32(le16(b[2:]))<<16 }
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// itoa formats n without strconv, which this package must not import.
func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
