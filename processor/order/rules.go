package order

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/ordergate/ordergate/processor/order/country"
	"github.com/ordergate/ordergate/processor/order/workday"
)

// DefaultMaxBodyBytes is the default limit of row 2 (ORDERGATE_MAX_MESSAGE_BYTES).
const DefaultMaxBodyBytes = 524288

// Rules decides records by the contract's rows 1-16. It holds no state but its settings and
// is safe for concurrent use; it does no I/O and never reads the clock.
type Rules struct {
	// MaxBodyBytes is the limit of row 2, in bytes; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int
	// Clients is the table of known clients; nil when no clients file is configured, in
	// which case only the account request needs credentials, checked by presence and length.
	Clients *Clients
}

// Decide applies rows 1-16 to a record. The decision is final (Accepted or Rejected) or,
// for a BVPN request that passed every pure row, NeedsServicePoint with the Lookup to
// answer; Decision.Resolve then applies rows 17-19.
func (r *Rules) Decide(rec *Record) Decision {
	var d Decision
	hs := readHeaders(rec.Headers)
	r.decide(&d, rec, &hs)
	d.annotate(&hs)
	if _, ignored := CorrelationHeader(rec.Headers); ignored {
		d.Warnings = append([]string{WarningCorrelationIDIgnored}, d.Warnings...)
	}
	return d
}

func (r *Rules) decide(d *Decision, rec *Record, hs *headerSet) {
	headerType := TypeUnknown
	if hs.present[hType] {
		headerType = ParseRequestType(string(hs.value[hType]))
	}
	d.Type = headerType

	max := r.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	switch {
	case len(rec.Value) == 0:
		d.reject([]Violation{{Row: RowMissingBody}})
		return
	case len(rec.Value) > max:
		d.reject([]Violation{{Row: RowTooLarge, Arg: strconv.Itoa(max)}})
		return
	case !utf8.Valid(rec.Value):
		d.reject([]Violation{{Row: RowInvalidBody, Arg: (&SyntaxError{
			Offset: invalidUTF8At(rec.Value), Reason: "The body is not valid UTF-8"}).Error()}})
		return
	}
	// The body lives on the stack: zeroing and filling it then needs no write barrier,
	// which a pooled body on the heap paid for every string field while the collector ran.
	var bs body
	b := &bs
	b.acct.reset()
	// The strings of the decision are views of the value, not copies: see Record.
	if serr := parseBodyInto(unsafe.String(unsafe.SliceData(rec.Value), len(rec.Value)), b); serr != nil {
		d.reject([]Violation{{Row: RowInvalidBody, Arg: serr.Error()}})
		return
	}
	d.BodyIsObject = true
	d.Type = namedType(b.typ, hs, headerType)

	if vs := r.headerRows(d, b, hs, headerType); vs != nil {
		d.reject(vs)
		return
	}
	t := d.Type
	var rows [4]violations // rows 12-15
	if t.IsBVPN() {
		rows[0] = bvpnMissing(b, t)
		if !rows[0].found() {
			rows[1] = bvpnEnvelope(b)
		}
		if !rows[0].found() && !rows[1].found() {
			rows[2] = bvpnProperties(&b.props, t)
		}
	} else {
		rows[0] = accountMissing(b)
		if !rows[0].found() {
			rows[3] = accountInvalid(b)
		}
	}
	for i := range rows {
		if rows[i].found() {
			d.reject(rows[i].vs)
			d.ErrorsTruncated = rows[i].truncated()
			return
		}
	}
	if t == TypeDisconnect {
		requested, _ := workday.ParseDate(b.requestedAt.s)
		if !workday.RequestedAtValid(requested, workday.Today(rec.Time)) {
			d.reject([]Violation{{Row: RowRequestedAt, Field: "requestedAt"}})
			return
		}
	}
	if !t.IsBVPN() {
		d.Outcome = Accepted
		return
	}
	sp := &b.props.sp
	d.ids = [3]field{sp.id, sp.reference, sp.customerReference}
	criteria := [3]Criterion{ByID, ByReference, ByCustomerReference}
	for i, f := range d.ids {
		if f.given() {
			d.Lookup = Lookup{Criterion: criteria[i], Value: f.s}
			break
		}
	}
	d.Outcome = NeedsServicePoint
}

// namedType is the supported type a request names: the body's type, else the type header;
// TypeUnknown when it names none or the two disagree.
func namedType(bodyType field, hs *headerSet, headerType RequestType) RequestType {
	switch {
	case !bodyType.given():
		return headerType
	case bodyType.k != kString:
		return TypeUnknown
	case hs.present[hType] && string(hs.value[hType]) != bodyType.s:
		return TypeUnknown
	}
	return ParseRequestType(bodyType.s)
}

// annotate adds what every event of the request carries whatever its outcome: the
// deprecated-header warnings and the billing account of an account request.
func (d *Decision) annotate(hs *headerSet) {
	if d.Type != TypeAccountContact {
		return
	}
	for _, h := range [...]header{hChannelID, hLob, hTargetSystem} {
		if hs.present[h] {
			d.Warnings = append(d.Warnings, deprecatedWarnings[h])
		}
	}
	bid, id := hs.value[hBusinessID], hs.value[hID]
	if hs.present[hBusinessID] && hs.present[hID] && !hs.conflict[hBusinessID] && !hs.conflict[hID] &&
		!blank(string(bid)) && !blank(string(id)) {
		d.BillingAccount = &BillingAccount{
			BusinessID: validUTF8(bid),
			ID:         validUTF8(id),
		}
	}
}

var deprecatedWarnings = map[header]string{
	hChannelID:    "header 'channelId' is deprecated",
	hLob:          "header 'lob' is deprecated",
	hTargetSystem: "header 'targetSystem' is deprecated",
}

// headerRows applies rows 4 to 11, which read the headers and the request's type.
func (r *Rules) headerRows(d *Decision, b *body, hs *headerSet, headerType RequestType) []Violation {
	var vs []Violation
	// Row 4: a header given twice with different values.
	for h := range numHeaders {
		if hs.conflict[h] {
			vs = append(vs, Violation{Row: RowHeaderConflict, Field: headerField(h)})
		}
	}
	if vs != nil {
		return vs
	}
	// Rows 5 and 6: credentials.
	namesAccount := headerType == TypeAccountContact ||
		(b.typ.k == kString && ParseRequestType(b.typ.s) == TypeAccountContact)
	var cl client
	if r.Clients != nil || namesAccount {
		for _, h := range [...]header{hClientID, hClientSecret} {
			if !hs.present[h] {
				vs = append(vs, Violation{Row: RowMissingCredentials, Field: headerField(h)})
			}
		}
		if vs != nil {
			return vs
		}
		for _, h := range [...]header{hClientID, hClientSecret} {
			if utf8.RuneCount(hs.value[h]) < 5 {
				vs = append(vs, Violation{Row: RowInvalidCredentials, Field: headerField(h)})
			}
		}
		if vs != nil {
			return vs
		}
		if r.Clients != nil {
			var ok bool
			cl, ok = r.Clients.authenticate(string(hs.value[hClientID]), string(hs.value[hClientSecret]))
			if !ok {
				return []Violation{{Row: RowInvalidCredentials, Field: headerField(hClientSecret)}}
			}
		}
	}
	// Row 7: no type at all.
	if !b.typ.given() && !hs.present[hType] {
		return []Violation{{Row: RowMissingType, Field: "type"}}
	}
	// Row 8: a type that is not a supported string, or a header that disagrees.
	if d.Type == TypeUnknown {
		switch {
		case b.typ.given() && b.typ.k != kString:
			return []Violation{{Row: RowUnsupportedType, Field: "type", Arg: jsonText(b.typ)}}
		case b.typ.given() && ParseRequestType(b.typ.s) == TypeUnknown:
			return []Violation{{Row: RowUnsupportedType, Field: "type", Arg: shown(b.typ.s)}}
		case b.typ.given(): // a header that disagrees with the body
			return []Violation{{Row: RowUnsupportedType, Field: headerField(hType),
				Arg: shown(validUTF8(hs.value[hType])) + " (the body's type is " + shown(b.typ.s) + ")"}}
		default: // the header alone
			return []Violation{{Row: RowUnsupportedType, Field: headerField(hType), Arg: shown(validUTF8(hs.value[hType]))}}
		}
	}
	if d.Type != TypeAccountContact {
		return nil
	}
	// Row 9: headers of the account request.
	for _, h := range [...]header{hBusinessID, hID} {
		if !hs.present[h] {
			vs = append(vs, Violation{Row: RowMissingHeader, Field: headerField(h)})
		}
	}
	if vs != nil {
		return vs
	}
	// Row 10.
	businessID := string(hs.value[hBusinessID])
	if !country.IsAssignedAlpha2(businessID) {
		vs = append(vs, Violation{Row: RowInvalidHeader, Field: headerField(hBusinessID),
			Arg: "not an assigned ISO 3166-1 alpha-2 country code in upper case"})
	}
	if blank(string(hs.value[hID])) {
		vs = append(vs, Violation{Row: RowInvalidHeader, Field: headerField(hID), Arg: "empty"})
	}
	if vs != nil {
		return vs
	}
	// Row 11.
	if r.Clients != nil && !cl.allows(businessID) {
		return []Violation{{Row: RowAccessDenied, Field: headerField(hBusinessID), Arg: businessID}}
	}
	return nil
}

// shown writes a value into a description; an empty one is written "".
func shown(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// jsonText writes a non-string member into a description.
func jsonText(f field) string {
	switch f.k {
	case kObject:
		return "an object"
	case kArray:
		return "an array"
	}
	return f.s
}

// validUTF8 returns b as a string, its invalid bytes replaced by U+FFFD. A valid b is not
// copied: the string shares the header value's memory, as the decision's other strings
// share the record value's (see Record).
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return string([]rune(string(b)))
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
