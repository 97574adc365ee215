package order

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The record time of the rule tests: Friday 4 December 2026, 11:00 in Paris.
var testNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

const disconnectBody = `{
    "requestedAt": "2027-01-04",
    "type": "R_BVPN_FR_1",
    "customerReference": "WAN-AAT-AA001-001",
    "contract": "256060",
    "properties": {
        "servicePoint": {"customerReference": "AAT-AA001-001"},
        "contacts": {
            "primary": {
                "title": "M",
                "firstName": "Paul",
                "lastName": "LANGEL",
                "phone": "+33401010101",
                "mobile": "+33600200200",
                "email": "paul.langel@mycompany.com"
            }
        }
    }
}`

const updateBody = `{
    "type": "U_BVPN_CUSTOM003_1",
    "requestedAt": "2026-12-10",
    "customerReference": "WAN-AAT-AA001-002",
    "properties": {
        "servicePoint": {"id": "SP-0002", "reference": "REF-0002"},
        "contacts": {
            "primary": {
                "title": "Mrs.",
                "firstName": "Jeanne",
                "lastName": "MARTIN",
                "phone": "+33140000000",
                "mobile": "+33611223344",
                "email": "jeanne.martin@example.fr"
            },
            "secondary": {"title": "M.", "email": "bob@example.fr"}
        },
        "profile": "FDJ CONNECT FTTH",
        "options": {
            "bandwidth": "8M",
            "wifi": "1",
            "multicast": "no",
            "quickstart": "yes",
            "ethernet": "2",
            "internal_antenna": "0",
            "external_antenna": "1"
        }
    }
}`

const accountBody = `{
"contact":[
{"contactName": "Jodian Malcolm", "partyRoleType": "OWNER",
 "contactMedium":[
  {"mediumType":"Telephone", "characteristic":{"phoneNumber":"12345678", "contactType": "home"}},
  {"mediumType":"Mobile", "characteristic":{"phoneNumber":"12345678", "contactType": "mobile1"}},
  {"mediumType":"Email", "characteristic":{"emailAddress":"alain.delon@best-actor.fr", "contactType": "email"}}
 ]},
{"contactName": "Jodian", "partyRoleType": "PORTIN",
 "contactMedium":[{"mediumType":"Telephone", "characteristic":{"phoneNumber":"12345678", "contactType": "home"}}]}
]}`

// accountHeaders are the headers of a valid account request without a clients file.
var accountHeaders = []string{"type=PATCH-billingAccountById", "businessId=PA", "id=ACC-1", "client_id=channel-1", "client_secret=s3cret-1"}

// rec builds a record at testNow from a value and "name=value" headers.
func rec(value string, headers ...string) *Record {
	r := &Record{Value: []byte(value), Time: testNow}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, "=")
		r.Headers = append(r.Headers, Header{Key: k, Value: []byte(v)})
	}
	return r
}

// node is an ordered JSON tree, so that tests can change one member of a request and keep
// the document order of the others.
type node struct {
	obj   []kv
	arr   []*node
	raw   json.RawMessage // scalar
	isObj bool
	isArr bool
}

type kv struct {
	k string
	v *node
}

func parseNode(t testing.TB, s string) *node {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		t.Fatalf("test body: %v", err)
	}
	return n
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		n := &node{}
		if tok == '{' {
			n.isObj = true
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.obj = append(n.obj, kv{k.(string), v})
			}
		} else {
			n.isArr = true
			for dec.More() {
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
		}
		_, err := dec.Token()
		return n, err
	default:
		b, err := json.Marshal(tok)
		return &node{raw: b}, err
	}
}

func (n *node) write(buf *bytes.Buffer) {
	switch {
	case n.isObj:
		buf.WriteByte('{')
		for i, m := range n.obj {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(m.k)
			buf.Write(k)
			buf.WriteByte(':')
			m.v.write(buf)
		}
		buf.WriteByte('}')
	case n.isArr:
		buf.WriteByte('[')
		for i, e := range n.arr {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.write(buf)
		}
		buf.WriteByte(']')
	default:
		buf.Write(n.raw)
	}
}

// edit returns body with the member at path (dots, and [i] for indexes) set to the raw
// JSON value, or removed when value is "-". A new member goes last.
func edit(t testing.TB, body, path, value string) string {
	t.Helper()
	root := parseNode(t, body)
	parts := splitPath(path)
	n := root
	for _, p := range parts[:len(parts)-1] {
		n = n.child(t, p)
	}
	last := parts[len(parts)-1]
	if i, err := strconv.Atoi(last); err == nil && n.isArr {
		if value == "-" {
			n.arr = append(n.arr[:i], n.arr[i+1:]...)
		} else {
			n.arr[i] = parseNode(t, value)
		}
	} else {
		found := false
		for i := range n.obj {
			if n.obj[i].k == last {
				found = true
				if value == "-" {
					n.obj = append(n.obj[:i], n.obj[i+1:]...)
				} else {
					n.obj[i].v = parseNode(t, value)
				}
				break
			}
		}
		if !found && value != "-" {
			n.obj = append(n.obj, kv{last, parseNode(t, value)})
		}
	}
	var buf bytes.Buffer
	root.write(&buf)
	return buf.String()
}

// edits applies several edits, given as path, value pairs.
func edits(t testing.TB, body string, pv ...string) string {
	t.Helper()
	for i := 0; i < len(pv); i += 2 {
		body = edit(t, body, pv[i], pv[i+1])
	}
	return body
}

func splitPath(path string) []string {
	path = strings.ReplaceAll(path, "[", ".")
	path = strings.ReplaceAll(path, "]", "")
	return strings.Split(path, ".")
}

func (n *node) child(t testing.TB, p string) *node {
	t.Helper()
	if i, err := strconv.Atoi(p); err == nil && n.isArr {
		return n.arr[i]
	}
	for _, m := range n.obj {
		if m.k == p {
			return m.v
		}
	}
	t.Fatalf("test body has no member %q", p)
	return nil
}

// got summarizes a decision's errors as "row field" lines, for whole-list comparisons.
func got(d Decision) []string {
	var out []string
	for _, v := range d.Errors {
		out = append(out, strconv.Itoa(int(v.Row))+" "+v.Field)
	}
	return out
}
