// Package chsql is furrow's one place for ClickHouse SQL text: a lexer that
// splits text into tokens exactly where ClickHouse's own lexer does
// (comments, quotes, heredocs, statement separators), and the quoting of
// identifiers and string literals.
//
// It exists so that nothing in furrow decides what a query "contains" with
// a rule of its own: a ';' hidden after `--` or inside `/* */`, `#!`,
// `$tag$…$tag$` or a quoted name must be seen exactly as the engine sees it,
// or a read-only check can be walked around. The rules follow
// src/Parsers/Lexer.cpp of ClickHouse; the tests compare this lexer's
// verdicts with the engine's own parser.
package chsql

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Kind is a token's kind, as far as furrow cares.
type Kind int

// Token kinds.
const (
	Whitespace  Kind = iota // spaces, tabs, newlines, Unicode spaces
	Comment                 // -- …, // …, # …, #!…, /* … */ (nested)
	String                  // '…', x'…', b'…'
	QuotedIdent             // "…" or `…`
	HereDoc                 // $tag$…$tag$
	Semicolon               // ;
	Word                    // bare word, keyword, number
	Punct                   // operators and brackets
	Error                   // what ClickHouse's lexer rejects; an unclosed quote or comment runs to the end
)

// Token is one token of a text: Text is q[Start:End].
type Token struct {
	Kind       Kind
	Start, End int
	Text       string
}

// Significant reports whether the token is more than whitespace or a
// comment.
func (t Token) Significant() bool { return t.Kind != Whitespace && t.Kind != Comment }

// Tokens splits q into tokens; concatenated, their texts are q.
func Tokens(q string) []Token {
	var out []Token
	l := lexer{q: q}
	for l.pos < len(q) {
		start := l.pos
		k := l.next()
		out = append(out, Token{Kind: k, Start: start, End: l.pos, Text: q[start:l.pos]})
	}
	return out
}

type lexer struct {
	q        string
	pos      int
	prevSig  Kind
	prevLast byte // the last byte of the previous significant token
	prevDot  bool // the previous significant token was '.'
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (l *lexer) next() Kind {
	k := l.scan()
	if k != Whitespace && k != Comment {
		l.prevLast = l.q[l.pos-1]
		l.prevDot = k == Punct && l.prevLast == '.'
		l.prevSig = k
	}
	return k
}

// scan reads one token at l.pos and advances past it.
func (l *lexer) scan() Kind {
	q, p := l.q, l.pos
	c := q[p]
	switch {
	case isSpace(c):
		p++
		for p < len(q) && isSpace(q[p]) {
			p++
		}
		l.pos = p
		return Whitespace
	case c >= '0' && c <= '9':
		return l.number()
	case c == '\'':
		return l.quoted('\'', String)
	case c == '"':
		return l.quoted('"', QuotedIdent)
	case c == '`':
		return l.quoted('`', QuotedIdent)
	case c == ';':
		l.pos++
		return Semicolon
	case c == '-':
		if p+1 < len(q) && q[p+1] == '-' {
			return l.lineComment()
		}
		l.pos++
		if l.pos < len(q) && q[l.pos] == '>' {
			l.pos++
		}
		return Punct
	case c == '/':
		if p+1 < len(q) && q[p+1] == '/' {
			return l.lineComment()
		}
		if p+1 < len(q) && q[p+1] == '*' {
			return l.blockComment()
		}
		l.pos++
		return Punct
	case c == '#':
		// ClickHouse reads '#' as a comment only before a space or '!'
		// (#!shebang); '#' otherwise is an error token.
		if p+1 < len(q) && (q[p+1] == ' ' || q[p+1] == '!') {
			return l.lineComment()
		}
		l.pos++
		return Error
	case c == '.':
		// A qualifier or tuple access, or the start of a number (.5).
		if p > 0 && (p+1 >= len(q) || !(q[p+1] >= '0' && q[p+1] <= '9') ||
			l.prevSig == Word || l.prevSig == QuotedIdent || l.prevSig == Punct && (l.prevLast == ')' || l.prevLast == ']')) {
			l.pos++
			return Punct
		}
		l.pos++
		l.digits(false)
		l.exponent(false)
		return Word
	case c == '!':
		l.pos++
		if l.pos < len(q) && q[l.pos] == '=' {
			l.pos++
			return Punct
		}
		return Error
	case c == '\\':
		l.pos++
		if l.pos < len(q) && q[l.pos] == 'G' {
			l.pos++
			return Punct
		}
		return Error
	case strings.IndexByte("()[]{},+*%=<>?:|@", c) >= 0:
		l.pos++
		if l.pos < len(q) {
			two := q[p : p+2]
			switch two {
			case "==", "<=", "<>", ">=", "::", "||", "@@":
				l.pos++
			}
		}
		return Punct
	}
	// The default branch of ClickHouse's lexer: heredoc, '$', hex and
	// binary strings, bare words, Unicode spaces, else an error.
	if c == '$' {
		if end := strings.IndexByte(q[p+1:], '$'); end >= 0 {
			tag := q[p : p+1+end+1]
			if i := strings.Index(q[p+len(tag):], tag); i >= 0 {
				l.pos = p + len(tag) + i + len(tag)
				return HereDoc
			}
		}
		if p+1 == len(q) || !isWord(q[p+1]) {
			l.pos++
			return Punct
		}
	}
	if p+2 < len(q) && q[p+1] == '\'' && (c == 'x' || c == 'X' || c == 'b' || c == 'B') {
		return l.hexOrBinString()
	}
	if isWord(c) || c == '$' {
		p++
		for p < len(q) && (isWord(q[p]) || q[p] == '$') {
			p++
		}
		l.pos = p
		return Word
	}
	if n := unicodeSpace(q[p:]); n > 0 {
		p += n
		for {
			m := unicodeSpace(q[p:])
			if m == 0 {
				break
			}
			p += m
		}
		l.pos = p
		return Whitespace
	}
	l.pos++
	return Error
}

// unicodeSpace returns the length of the Unicode space at the start of s
// (ClickHouse skips them to accept queries pasted from word processors).
func unicodeSpace(s string) int {
	if s == "" {
		return 0
	}
	if isSpace(s[0]) {
		return 1
	}
	if s[0] < 0x80 {
		return 0
	}
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case r == 0x00A0, r == 0x1680, r >= 0x2000 && r <= 0x200B, r == 0x2028, r == 0x2029,
		r == 0x202F, r == 0x205F, r == 0x3000, r == 0xFEFF:
		return n
	}
	return 0
}

func (l *lexer) lineComment() Kind {
	if i := strings.IndexByte(l.q[l.pos:], '\n'); i >= 0 {
		l.pos += i
	} else {
		l.pos = len(l.q)
	}
	return Comment
}

// blockComment reads /* … */, nested as the SQL standard says.
func (l *lexer) blockComment() Kind {
	q := l.q
	p := l.pos + 2
	depth := 1
	for p+2 <= len(q) {
		switch {
		case q[p] == '/' && q[p+1] == '*':
			p += 2
			depth++
		case q[p] == '*' && q[p+1] == '/':
			p += 2
			depth--
			if depth == 0 {
				l.pos = p
				return Comment
			}
		default:
			p++
		}
	}
	l.pos = len(q)
	return Error
}

// quoted reads a quoted token: a backslash escapes the next byte, and a
// doubled quote stands for itself.
func (l *lexer) quoted(quote byte, k Kind) Kind {
	q := l.q
	p := l.pos + 1
	for p < len(q) {
		switch q[p] {
		case quote:
			p++
			if p < len(q) && q[p] == quote {
				p++
				continue
			}
			l.pos = p
			return k
		case '\\':
			p += 2
			continue
		}
		p++
	}
	l.pos = len(q)
	return Error
}

func (l *lexer) hexOrBinString() Kind {
	q := l.q
	hex := q[l.pos] == 'x' || q[l.pos] == 'X'
	p := l.pos + 2
	for p < len(q) && (hex && isHex(q[p]) || !hex && (q[p] == '0' || q[p] == '1')) {
		p++
	}
	if p >= len(q) || q[p] != '\'' {
		l.pos = len(q)
		return Error
	}
	l.pos = p + 1
	return String
}

// number reads a number the way ClickHouse skips one (0x…, 0b…, decimals,
// exponents, '_' separators); digits followed by word characters make a
// bare word (1identifier).
func (l *lexer) number() Kind {
	q := l.q
	start := l.pos
	if l.prevDot {
		l.pos++
		for l.pos < len(q) && (q[l.pos] >= '0' && q[l.pos] <= '9' || q[l.pos] == '_') {
			l.pos++
		}
	} else {
		hex := false
		if start+2 < len(q) && q[start] == '0' && strings.IndexByte("xXbB", q[start+1]) >= 0 {
			if (q[start+1] == 'x' || q[start+1] == 'X') && isHex(q[start+2]) {
				hex = true
				l.pos += 2
			} else if (q[start+1] == 'b' || q[start+1] == 'B') && (q[start+2] == '0' || q[start+2] == '1') {
				l.pos += 2
			} else {
				l.pos++
			}
		} else {
			l.pos++
		}
		l.digits(hex)
		if l.pos < len(q) && q[l.pos] == '.' {
			l.pos++
			l.digits(hex)
		}
		l.exponent(hex)
	}
	// Digits followed by word characters make a bare word (1identifier).
	for l.pos < len(q) && isWord(q[l.pos]) {
		l.pos++
	}
	return Word
}

func (l *lexer) digits(hex bool) {
	q := l.q
	for l.pos < len(q) && (q[l.pos] >= '0' && q[l.pos] <= '9' || hex && isHex(q[l.pos]) || q[l.pos] == '_' && l.pos+1 < len(q) && isHex(q[l.pos+1])) {
		l.pos++
	}
}

func (l *lexer) exponent(hex bool) {
	q := l.q
	if l.pos+1 < len(q) && (!hex && (q[l.pos] == 'e' || q[l.pos] == 'E') || hex && (q[l.pos] == 'p' || q[l.pos] == 'P')) {
		l.pos++
		if l.pos+1 < len(q) && (q[l.pos] == '-' || q[l.pos] == '+') {
			l.pos++
		}
		for l.pos < len(q) && (q[l.pos] >= '0' && q[l.pos] <= '9' || q[l.pos] == '_') {
			l.pos++
		}
	}
}

// ErrMultipleStatements is returned for a text that holds more than one
// statement.
var ErrMultipleStatements = errors.New("multiple statements are not allowed: send one statement per request")

// OneStatement returns ErrMultipleStatements when q holds a ';' followed by
// anything but whitespace, comments and further ';'. One trailing ';' is
// allowed, as ClickHouse allows it.
func OneStatement(q string) error {
	sawSemicolon := false
	for _, t := range Tokens(q) {
		switch {
		case t.Kind == Semicolon:
			sawSemicolon = true
		case t.Significant() && sawSemicolon:
			return ErrMultipleStatements
		}
	}
	return nil
}

// Words returns the bare words and punctuation of q, in order, without
// whitespace, comments, string literals, quoted identifiers and heredocs.
func Words(q string) []string {
	var out []string
	for _, t := range Tokens(q) {
		switch t.Kind {
		case Word, Punct, Semicolon, Error:
			out = append(out, t.Text)
		}
	}
	return out
}
