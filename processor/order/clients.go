package order

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordergate/ordergate/processor/order/country"
)

// Clients is the table of known clients (contract section 5): each client's secret as a
// SHA-256 digest and the business units it may act for. It is read-only once built and
// safe for concurrent use.
type Clients struct {
	byID map[string]client
}

type client struct {
	digest      [sha256.Size]byte
	businessIDs []string
}

// clientEntry is one entry of the clients file.
type clientEntry struct {
	ClientID     string   `json:"clientId"`
	SecretSHA256 string   `json:"secretSha256"`
	BusinessIDs  []string `json:"businessIds"`
}

// ClientsShape is the shape of a clients file, for error messages and help texts.
const ClientsShape = `[{"clientId": "...", "secretSha256": "<SHA-256 of the secret, 64 hex digits>", "businessIds": ["PA", ...]}, ...]`

// clientFields are the members of an entry, in ClientsShape's order.
var clientFields = []string{"clientId", "secretSha256", "businessIds"}

// ParseClients reads a clients file: a JSON array of at least one
// {"clientId": "...", "secretSha256": "<64 hex digits>", "businessIds": ["PA", ...]}.
// An empty list (every request would be refused), unknown members, a member of the wrong
// type, a client id shorter than 5 characters or given twice, a digest that is not 64
// hexadecimal digits and a business id that is not an assigned ISO 3166-1 alpha-2 code are
// errors. Each error starts with the line and column in data and names the entry; it says
// what was expected and never quotes a digest.
func ParseClients(data []byte) (*Clients, error) {
	p := clientsParser{data: data, dec: jsontext.NewDecoder(bytes.NewReader(data))}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, p.errorf(0, -1, "the file is empty; expected a JSON array of clients, "+ClientsShape)
	}
	if p.dec.PeekKind() != '[' {
		if _, err := p.dec.ReadValue(); err != nil {
			return nil, p.jsonError(0, -1, err)
		}
		return nil, p.errorf(p.skipSpace(0), -1, "expected a JSON array of clients, "+ClientsShape)
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return nil, p.jsonError(0, -1, err)
	}
	c := &Clients{byID: map[string]client{}}
	for i := 0; p.dec.PeekKind() != ']'; i++ {
		start := p.skipSpace(p.dec.InputOffset())
		raw, err := p.dec.ReadValue()
		if err != nil {
			return nil, p.jsonError(0, i, err)
		}
		var e clientEntry
		if err := json.Unmarshal(raw, &e, json.RejectUnknownMembers(true)); err != nil {
			return nil, p.jsonError(start, i, err)
		}
		id, cl, err := e.check()
		if err == nil {
			if _, dup := c.byID[id]; dup {
				err = errors.New("clientId given twice")
			}
		}
		if err != nil {
			return nil, p.errorf(start, i, err.Error(), e.ClientID)
		}
		c.byID[id] = cl
	}
	end := p.skipSpace(p.dec.InputOffset())
	if _, err := p.dec.ReadToken(); err != nil { // the closing ']'
		return nil, p.jsonError(0, -1, err)
	}
	after := p.skipSpace(p.dec.InputOffset())
	if _, err := p.dec.ReadToken(); err != io.EOF {
		return nil, p.errorf(after, -1, "data after the JSON array of clients")
	}
	if len(c.byID) == 0 {
		return nil, p.errorf(end, -1, "the list of clients is empty: every request would be refused (401); "+
			"add a client ("+ClientsShape+") or leave ORDERGATE_CLIENTS_FILE unset")
	}
	return c, nil
}

// check validates an entry and returns the client it describes.
func (e *clientEntry) check() (string, client, error) {
	var cl client
	if len([]rune(e.ClientID)) < 5 {
		return "", cl, errors.New("clientId must have at least 5 characters")
	}
	raw, err := hex.DecodeString(e.SecretSHA256)
	if err != nil || len(raw) != sha256.Size {
		return "", cl, errors.New("secretSha256 must be 64 hexadecimal digits, the SHA-256 of the secret " +
			"(`ordergate clients hash` computes it from the secret on its standard input)")
	}
	for _, b := range e.BusinessIDs {
		if !country.IsAssignedAlpha2(b) {
			return "", cl, fmt.Errorf("businessIds: %q is not an assigned ISO 3166-1 alpha-2 code in upper case", b)
		}
	}
	copy(cl.digest[:], raw)
	cl.businessIDs = slices.Clone(e.BusinessIDs)
	return e.ClientID, cl, nil
}

// clientsParser reads a clients file and locates its errors.
type clientsParser struct {
	data []byte
	dec  *jsontext.Decoder
}

// skipSpace returns the offset of the first byte at or after off that is neither JSON
// white space nor a comma: the start of the next value.
func (p *clientsParser) skipSpace(off int64) int64 {
	for off < int64(len(p.data)) && strings.IndexByte(" \t\r\n,", p.data[off]) >= 0 {
		off++
	}
	return off
}

// errorf returns the error "line L, column C: entry N (clientId "ID"): MESSAGE" for
// offset: the entry when it is not negative (counted from 1, as a person counts), its
// client id when one is given and not empty.
func (p *clientsParser) errorf(offset int64, entry int, msg string, clientID ...string) error {
	offset = min(max(offset, 0), int64(len(p.data)))
	line := 1 + bytes.Count(p.data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(p.data[:offset], '\n')
	where := fmt.Sprintf("line %d, column %d: ", line, col)
	if entry >= 0 {
		where += fmt.Sprintf("entry %d", entry+1)
		if len(clientID) > 0 && clientID[0] != "" {
			where += fmt.Sprintf(" (clientId %q)", clientID[0])
		}
		where += ": "
	}
	return errors.New(where + msg)
}

// jsonError rewrites an error of the JSON decoder, whose offsets count from base, in the
// words of the clients file: where, what was expected, what was found. It names no Go type.
func (p *clientsParser) jsonError(base int64, entry int, err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		msg := "invalid JSON"
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			msg += fmt.Sprintf(": member %q given twice", syn.JSONPointer.LastToken())
		case errors.Is(err, io.ErrUnexpectedEOF):
			msg = "the JSON ends too early (the file is cut short?)"
		case syn.Err != nil:
			msg += ": " + strings.TrimPrefix(syn.Err.Error(), "jsontext: ")
		}
		return p.errorf(base+syn.ByteOffset, entry, msg)
	case errors.As(err, &sem):
		path := strings.Split(strings.TrimPrefix(string(sem.JSONPointer), "/"), "/")
		if errors.Is(err, json.ErrUnknownName) {
			return p.errorf(base+sem.ByteOffset, entry, unknownClientField(path[len(path)-1]))
		}
		return p.errorf(base+sem.ByteOffset, entry, fmt.Sprintf("%s: expected %s, found %s", fieldName(path), expected(path), kindName(sem.JSONKind)))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.errorf(int64(len(p.data)), entry, "the JSON ends too early (the file is cut short?)")
	}
	return p.errorf(base, entry, err.Error())
}

// unknownClientField says what to write instead of an unknown member of an entry.
func unknownClientField(name string) string {
	msg := fmt.Sprintf("unknown field %q", name)
	for _, f := range clientFields {
		if fold(name) == fold(f) {
			return msg + fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	if lower := strings.ToLower(name); strings.Contains(lower, "secret") || strings.Contains(lower, "password") {
		return msg + `: the file never holds a secret, only its SHA-256 digest, in "secretSha256" ` +
			"(`ordergate clients hash` computes it from the secret on its standard input)"
	}
	return msg + `: an entry has "clientId", "secretSha256" and "businessIds"`
}

// fold reduces a member name to compare spellings: clientID, client_id and ClientId alike.
func fold(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(name))
}

// fieldName names the member of an entry at path (["businessIds", "1"]) for a message.
func fieldName(path []string) string {
	switch {
	case len(path) == 1 && path[0] == "":
		return "the entry"
	case len(path) == 1:
		return path[0]
	}
	return path[0] + "[" + path[1] + "]"
}

// expected says what belongs at path in an entry.
func expected(path []string) string {
	switch {
	case len(path) == 1 && path[0] == "":
		return `an object {"clientId": "...", "secretSha256": "...", "businessIds": [...]}`
	case len(path) == 1 && path[0] == "businessIds":
		return `an array of country codes, e.g. ["PA", "JM"]`
	case len(path) == 2:
		return `a country code in a string, e.g. "PA"`
	}
	return "a string"
}

// kindName names a JSON kind as jsontext reports it.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "something else"
}

// Len returns the number of clients.
func (c *Clients) Len() int { return len(c.byID) }

// noClient is compared against when the client id is unknown, so that an unknown id and a
// wrong secret take the same time.
var noClient = client{}

// authenticate reports whether the pair is a known client with that secret. The secret's
// SHA-256 digest is compared in constant time.
func (c *Clients) authenticate(id, secret string) (client, bool) {
	cl, known := c.byID[id]
	want := cl.digest
	if !known {
		want = noClient.digest
	}
	got := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return cl, known && match
}

func (cl client) allows(businessID string) bool {
	for _, b := range cl.businessIDs {
		if b == businessID {
			return true
		}
	}
	return false
}
