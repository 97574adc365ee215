package order

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a request body, as encoding/json/v2 does: deeper input is
// invalid rather than a risk to the worker's stack.
const maxDepth = 10000

// SyntaxError says why a record value is not a valid JSON object (contract row 3) and at
// which byte offset of the value the problem starts.
type SyntaxError struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return e.Reason + " (at byte " + strconv.Itoa(e.Offset) + ")."
}

// kind is what a JSON member of the body turned out to be.
type kind uint8

const (
	kAbsent kind = iota // the member is not in the body
	kNull
	kString
	kNumber
	kBool
	kObject
	kArray
)

// field is one member of the body as parsed: its kind and, for scalars, its text (the
// unescaped string, or the literal text of a number or boolean).
type field struct {
	k kind
	s string
}

// given reports whether the member is present with a non-null value (null counts as missing).
func (f field) given() bool { return f.k > kNull }

// scanner is a single-pass JSON reader over one record value. It validates the whole
// grammar (RFC 8259), rejects duplicated names in every object, and hands the typed
// parsers of request.go the members they know while skipping, but still checking, the rest.
// Strings it returns are substrings of s when they hold no escape, so a valid request costs
// one allocation (the copy of the value into s).
type scanner struct {
	s   string
	pos int
	err *SyntaxError
}

func (p *scanner) fail(off int, reason string) bool {
	if p.err == nil {
		p.err = &SyntaxError{Offset: off, Reason: reason}
	}
	return false
}

func (p *scanner) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end of the input.
func (p *scanner) peek() byte {
	p.ws()
	if p.pos >= len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

func (p *scanner) unexpected() bool {
	if p.pos >= len(p.s) {
		return p.fail(p.pos, "The body is not valid JSON: unexpected end of input")
	}
	c := p.s[p.pos]
	if c < 0x20 || c >= 0x7f {
		return p.fail(p.pos, "The body is not valid JSON: unexpected byte 0x"+strconv.FormatUint(uint64(c), 16))
	}
	return p.fail(p.pos, "The body is not valid JSON: unexpected character '"+string(c)+"'")
}

// expect consumes byte c after optional white space.
func (p *scanner) expect(c byte) bool {
	if p.peek() != c {
		return p.unexpected()
	}
	p.pos++
	return true
}

// str reads a JSON string at p.pos (which must be '"') and returns its unescaped value.
// The input is known to be valid UTF-8 (checked once for the whole value).
func (p *scanner) str() (string, bool) {
	start := p.pos + 1
	i := start
	for i < len(p.s) && plainByte[p.s[i]] {
		i++
	}
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return p.s[start:i], true
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			p.pos = i
			return "", p.fail(i, "The body is not valid JSON: control character in a string")
		}
		i++
	}
	p.pos = i
	return "", p.fail(i, "The body is not valid JSON: unterminated string")
}

// strEscaped finishes a string that holds escapes, from i (the first backslash).
func (p *scanner) strEscaped(start, i int) (string, bool) {
	buf := make([]byte, 0, i-start+16)
	buf = append(buf, p.s[start:i]...)
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf), true
		case c < 0x20:
			p.pos = i
			return "", p.fail(i, "The body is not valid JSON: control character in a string")
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(p.s) {
			break
		}
		esc := p.s[i+1]
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(p.s, i+2)
			if !ok {
				p.pos = i
				return "", p.fail(i, "The body is not valid JSON: invalid escape sequence")
			}
			n := 6
			if utf16.IsSurrogate(r) {
				var r2 rune
				if i+7 < len(p.s) && p.s[i+6] == '\\' && p.s[i+7] == 'u' {
					r2, ok = hex4(p.s, i+8)
				} else {
					ok = false
				}
				r = utf16.DecodeRune(r, r2)
				if !ok || r == utf8.RuneError {
					p.pos = i
					return "", p.fail(i, "The body is not valid UTF-8: lone surrogate in a \\u escape")
				}
				n = 12
			}
			buf = utf8.AppendRune(buf, r)
			i += n
			continue
		default:
			p.pos = i
			return "", p.fail(i, "The body is not valid JSON: invalid escape sequence")
		}
		i += 2
	}
	p.pos = len(p.s)
	return "", p.fail(len(p.s), "The body is not valid JSON: unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// plainByte marks the bytes a JSON string holds as they are: not a quote, a backslash or a
// control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// number reads a JSON number at p.pos and returns its text.
func (p *scanner) number() (string, bool) {
	s, start := p.s, p.pos
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
	default:
		p.pos = i
		return "", p.unexpected()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			p.pos = i
			return "", p.unexpected()
		}
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			p.pos = i
			return "", p.unexpected()
		}
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
	}
	p.pos = i
	return s[start:i], true
}

func (p *scanner) literal(lit string) bool {
	if len(p.s)-p.pos >= len(lit) && p.s[p.pos:p.pos+len(lit)] == lit {
		p.pos += len(lit)
		return true
	}
	for i := 0; i < len(lit); i++ {
		if p.pos+i >= len(p.s) || p.s[p.pos+i] != lit[i] {
			p.pos += i
			break
		}
	}
	return p.unexpected()
}

// scalar reads any value and reports its kind; objects and arrays are skipped (and checked).
func (p *scanner) scalar(depth int) field {
	switch c := p.peek(); c {
	case '"':
		s, ok := p.str()
		if !ok {
			return field{}
		}
		return field{k: kString, s: s}
	case 'n':
		if p.literal("null") {
			return field{k: kNull}
		}
	case 't':
		if p.literal("true") {
			return field{k: kBool, s: "true"}
		}
	case 'f':
		if p.literal("false") {
			return field{k: kBool, s: "false"}
		}
	case '{':
		if p.skipObject(depth + 1) {
			return field{k: kObject}
		}
	case '[':
		if p.skipArray(depth + 1) {
			return field{k: kArray}
		}
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			if s, ok := p.number(); ok {
				return field{k: kNumber, s: s}
			}
			return field{}
		}
		p.unexpected()
	}
	return field{}
}

func (p *scanner) skipValue(depth int) bool {
	p.scalar(depth)
	return p.err == nil
}

func (p *scanner) skipObject(depth int) bool {
	var it members
	if !p.beginObject(&it, depth) {
		return false
	}
	for {
		if _, ok := p.nextMember(&it); !ok {
			return p.err == nil
		}
		if !p.skipValue(depth) {
			return false
		}
	}
}

func (p *scanner) skipArray(depth int) bool {
	var it elements
	if !p.beginArray(&it, depth) {
		return false
	}
	for p.nextElement(&it) {
		if !p.skipValue(depth) {
			return false
		}
	}
	return p.err == nil
}

// members iterates the members of one object and remembers its names to refuse duplicates.
// Small objects compare names linearly; large ones switch to a map.
type members struct {
	n     int
	small [12]string
	big   map[string]struct{}
}

func (m *members) add(name string) bool {
	if m.big != nil {
		if _, dup := m.big[name]; dup {
			return false
		}
		m.big[name] = struct{}{}
		return true
	}
	for _, seen := range m.small[:m.n] {
		if seen == name {
			return false
		}
	}
	if m.n < len(m.small) {
		m.small[m.n] = name
		m.n++
		return true
	}
	m.big = make(map[string]struct{}, 2*len(m.small))
	for _, seen := range m.small {
		m.big[seen] = struct{}{}
	}
	m.big[name] = struct{}{}
	return true
}

// beginObject consumes '{'.
func (p *scanner) beginObject(m *members, depth int) bool {
	if depth > maxDepth {
		return p.fail(p.pos, "The body is not valid JSON: nested deeper than "+strconv.Itoa(maxDepth)+" levels")
	}
	if !p.expect('{') {
		return false
	}
	m.n = -1
	return true
}

// nextMember reads the next member name and its colon; it returns false at the closing
// brace (consumed) or on an error (p.err set).
func (p *scanner) nextMember(m *members) (string, bool) {
	if p.err != nil {
		return "", false
	}
	c := p.peek()
	if m.n == -1 {
		m.n = 0
		if c == '}' {
			p.pos++
			return "", false
		}
	} else {
		switch c {
		case '}':
			p.pos++
			return "", false
		case ',':
			p.pos++
			c = p.peek()
		default:
			return "", p.unexpected()
		}
	}
	if c != '"' {
		return "", p.unexpected()
	}
	at := p.pos
	name, ok := p.str()
	if !ok {
		return "", false
	}
	if !m.add(name) {
		return "", p.fail(at, "The body gives the name '"+name+"' twice in one object")
	}
	if !p.expect(':') {
		return "", false
	}
	return name, true
}

// elements iterates the elements of one array.
type elements struct {
	n int
}

func (p *scanner) beginArray(e *elements, depth int) bool {
	if depth > maxDepth {
		return p.fail(p.pos, "The body is not valid JSON: nested deeper than "+strconv.Itoa(maxDepth)+" levels")
	}
	if !p.expect('[') {
		return false
	}
	e.n = -1
	return true
}

// nextElement positions the scanner on the next element; it returns false at the closing
// bracket (consumed) or on an error.
func (p *scanner) nextElement(e *elements) bool {
	if p.err != nil {
		return false
	}
	c := p.peek()
	if e.n == -1 {
		e.n = 0
		if c == ']' {
			p.pos++
			return false
		}
		return true
	}
	switch c {
	case ']':
		p.pos++
		return false
	case ',':
		p.pos++
		e.n++
		return true
	default:
		return p.unexpected()
	}
}

// end checks that nothing but white space follows the top-level value.
func (p *scanner) end() bool {
	if p.err != nil {
		return false
	}
	p.ws()
	if p.pos < len(p.s) { // a NUL byte is data too: peek's 0 does not tell the end
		return p.fail(p.pos, "The body is not valid JSON: data after the top-level object")
	}
	return true
}

// describeKind names a JSON kind for messages.
func describeKind(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}
