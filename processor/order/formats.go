package order

import (
	"strings"
	"unicode/utf8"
)

// maxStringChars is the longest string a BVPN request may hold, in Unicode code points.
const maxStringChars = 255

// blank reports whether s is empty after trimming white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// tooLong reports whether s has more than maxStringChars code points.
func tooLong(s string) bool {
	return len(s) > maxStringChars && utf8.RuneCountInString(s) > maxStringChars
}

// isE164 reports whether s is an E.164 number: '+', then 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return allDigits(s[1:])
}

// isAccountPhone reports whether s is a phone number of the account request: an optional
// '+', then 7 to 15 digits (the document's own example is 12345678).
func isAccountPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return len(s) >= 7 && len(s) <= 15 && allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isEmail reports whether s is exactly one e-mail address in the common form
// local@domain: no display name, no comments, no quoted local part, no address literal.
// The local part is a dot-atom of RFC 5322 (atext characters separated by single dots); the
// domain is at least two DNS labels of letters, digits and inner hyphens, the last one not
// all digits. This is stricter than net/mail on purpose: net/mail accepts display names,
// comments, quoted strings and "a@b", which downstream contact systems refuse.
func isEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 {
		return false
	}
	return isDotAtom(s[:at]) && isDomain(s[at+1:])
}

func isDotAtom(s string) bool {
	if s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isDomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	labels := 0
	last := ""
	for s != "" {
		label := s
		if i := strings.IndexByte(s, '.'); i >= 0 {
			label, s = s[:i], s[i+1:]
			if s == "" {
				return false // trailing dot
			}
		} else {
			s = ""
		}
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
		labels++
		last = label
	}
	return labels >= 2 && !allDigits(last)
}
