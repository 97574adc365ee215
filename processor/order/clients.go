package order

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

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

// ParseClients reads a clients file: a JSON array of
// {"clientId": "...", "secretSha256": "<64 hex digits>", "businessIds": ["PA", ...]}.
// Unknown members, a client id shorter than 5 characters or given twice, a digest that is
// not 64 hexadecimal digits and a business id that is not an assigned ISO 3166-1 alpha-2
// code are errors that name the entry; an error never quotes a digest.
func ParseClients(data []byte) (*Clients, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var entries []clientEntry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("not a JSON array of clients: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON array of clients")
	}
	c := &Clients{byID: make(map[string]client, len(entries))}
	for i, e := range entries {
		where := fmt.Sprintf("entry %d", i+1)
		if e.ClientID != "" {
			where += fmt.Sprintf(" (clientId %q)", e.ClientID)
		}
		if len([]rune(e.ClientID)) < 5 {
			return nil, fmt.Errorf("%s: clientId must have at least 5 characters", where)
		}
		if _, dup := c.byID[e.ClientID]; dup {
			return nil, fmt.Errorf("%s: clientId given twice", where)
		}
		raw, err := hex.DecodeString(e.SecretSHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%s: secretSha256 must be 64 hexadecimal digits (the SHA-256 of the secret)", where)
		}
		for _, b := range e.BusinessIDs {
			if !country.IsAssignedAlpha2(b) {
				return nil, fmt.Errorf("%s: businessIds: %q is not an assigned ISO 3166-1 alpha-2 code in upper case", where, b)
			}
		}
		var cl client
		copy(cl.digest[:], raw)
		cl.businessIDs = slices.Clone(e.BusinessIDs)
		c.byID[e.ClientID] = cl
	}
	return c, nil
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
