package order

import "strconv"

// Reasons of row 15.
const (
	reasonMediumType   = "not one of: Telephone, Mobile, Email"
	reasonAccountPhone = "not a phone number (an optional '+' then 7 to 15 digits)"
)

// apath is the path of a member of the account body: contact[i], or
// contact[i].contactMedium[j] when j >= 0, then suffix. It is written out only for a
// violation that is kept, so that checking a valid request builds no string.
type apath struct {
	i, j   int
	suffix string
}

func contactPath(i int) apath     { return apath{i: i, j: -1} }
func mediumPath(i, j int) apath   { return apath{i: i, j: j} }
func (a apath) at(s string) apath { a.suffix = s; return a }
func (a apath) String() string {
	s := "contact[" + strconv.Itoa(a.i) + "]"
	if a.j >= 0 {
		s += ".contactMedium[" + strconv.Itoa(a.j) + "]"
	}
	return s + a.suffix
}

// accountStr checks a string member of the account request: a string, not blank (the
// account document sets no length limit).
func (v *violations) accountStr(p apath, f field) bool {
	switch {
	case f.k != kString:
		v.invalidAt(p, reasonNotString)
	case blank(f.s):
		v.invalidAt(p, reasonEmpty)
	default:
		return true
	}
	return false
}

// mediumKind is the medium type a valid mediumType names ("" when it names none).
func mediumKind(f field) string {
	if f.k == kString {
		switch f.s {
		case "Telephone", "Mobile", "Email":
			return f.s
		}
	}
	return ""
}

// accountChecks applies rows 12 and 15 of the account request to its contacts while the
// body is parsed, one contact and one medium at a time: what a body holds is checked and
// forgotten, so that memory does not grow with the number of contacts or media, and only
// the violations kept (the first MaxErrors of each row) are written out.
type accountChecks struct {
	contacts int        // elements of the contact array seen so far
	missing  violations // row 12, every contact so far
	invalid  violations // row 15, every contact so far
	// The contact being parsed, its media count, the medium being parsed, and the
	// violations of its media, which come after the contact's own in the contract's order
	// although its contactMedium may come first in the document.
	c          accountContact
	m          medium
	medMissing violations
	medInvalid violations
}

type accountContact struct {
	k             kind // kind of the element itself
	contactName   field
	partyRoleType field
	contactMedium field // kind only
	media         int   // elements of contactMedium
}

type medium struct {
	k              kind
	mediumType     field
	characteristic field // kind only
	contactType    field
	phoneNumber    field
	emailAddress   field
}

// reset empties the checks for a new body.
func (a *accountChecks) reset() {
	*a = accountChecks{
		missing: violations{row: RowMissingField}, invalid: violations{row: RowInvalidAccountField},
		medMissing: violations{row: RowMissingField, vs: a.medMissing.vs[:0]},
		medInvalid: violations{row: RowInvalidAccountField, vs: a.medInvalid.vs[:0]},
	}
}

// beginContact starts contact i. Its media keep no more violations than the rows have
// room for, so that a full row builds no path at all.
func (a *accountChecks) beginContact() {
	a.c = accountContact{}
	a.medMissing.vs, a.medMissing.n = a.medMissing.vs[:0], 0
	a.medInvalid.vs, a.medInvalid.n = a.medInvalid.vs[:0], 0
	a.medMissing.limit = roomOf(&a.missing)
	a.medInvalid.limit = roomOf(&a.invalid)
}

// roomOf is the limit of a buffer whose violations go into v: v's room, or -1 (keep none).
func roomOf(v *violations) int {
	if r := MaxErrors - len(v.vs); r > 0 {
		return r
	}
	return -1
}

// medium checks the medium just parsed, the j-th of contact i.
func (a *accountChecks) medium(i, j int) {
	m := &a.m
	mp := mediumPath(i, j)
	if m.k != kObject {
		a.medInvalid.invalidAt(mp, reasonNotObject)
		return
	}
	// Row 12.
	v := &a.medMissing
	if !m.mediumType.given() {
		v.missingAt(mp.at(".mediumType"))
	}
	if !m.characteristic.given() || m.characteristic.k == kObject { // else row 15
		if !m.contactType.given() {
			v.missingAt(mp.at(".characteristic.contactType"))
		}
		switch mediumKind(m.mediumType) {
		case "Telephone", "Mobile":
			if !m.phoneNumber.given() {
				v.missingAt(mp.at(".characteristic.phoneNumber"))
			}
		case "Email":
			if !m.emailAddress.given() {
				v.missingAt(mp.at(".characteristic.emailAddress"))
			}
		}
	}
	// Row 15.
	v = &a.medInvalid
	if v.accountStr(mp.at(".mediumType"), m.mediumType) && mediumKind(m.mediumType) == "" {
		v.invalidAt(mp.at(".mediumType"), reasonMediumType)
	}
	if m.characteristic.k != kObject {
		v.invalidAt(mp.at(".characteristic"), reasonNotObject)
		return
	}
	v.accountStr(mp.at(".characteristic.contactType"), m.contactType)
	switch mediumKind(m.mediumType) {
	case "Telephone", "Mobile":
		if v.accountStr(mp.at(".characteristic.phoneNumber"), m.phoneNumber) && !isAccountPhone(m.phoneNumber.s) {
			v.invalidAt(mp.at(".characteristic.phoneNumber"), reasonAccountPhone)
		}
	case "Email":
		if v.accountStr(mp.at(".characteristic.emailAddress"), m.emailAddress) && !isEmail(m.emailAddress.s) {
			v.invalidAt(mp.at(".characteristic.emailAddress"), reasonEmail)
		}
	}
}

// endContact checks contact i, just parsed, and adds its media's violations after its own.
func (a *accountChecks) endContact(i int) {
	c := &a.c
	cp := contactPath(i)
	if c.k != kObject {
		a.invalid.invalidAt(cp, reasonNotObject)
		return
	}
	// Row 12.
	if !c.contactName.given() {
		a.missing.missingAt(cp.at(".contactName"))
	}
	if !c.partyRoleType.given() {
		a.missing.missingAt(cp.at(".partyRoleType"))
	}
	if !c.contactMedium.given() {
		a.missing.missingAt(cp.at(".contactMedium"))
	}
	a.missing.merge(&a.medMissing)
	// Row 15.
	a.invalid.accountStr(cp.at(".contactName"), c.contactName)
	a.invalid.accountStr(cp.at(".partyRoleType"), c.partyRoleType)
	switch {
	case c.contactMedium.k != kArray:
		a.invalid.invalidAt(cp.at(".contactMedium"), reasonNotArray)
	case c.media == 0:
		a.invalid.invalidAt(cp.at(".contactMedium"), reasonEmpty)
	default:
		a.invalid.merge(&a.medInvalid)
	}
}

// accountMissing is row 12 for the account request.
func accountMissing(b *body) violations {
	if !b.contact.given() {
		v := violations{row: RowMissingField}
		v.missing("contact")
		return v
	}
	return b.acct.missing
}

// accountInvalid is row 15: the contact part of the account request. Other first-level
// members, and unknown members inside a contact, a medium or a characteristic, are let
// through unchanged.
func accountInvalid(b *body) violations {
	v := violations{row: RowInvalidAccountField}
	switch {
	case b.contact.k != kArray:
		v.invalid("contact", reasonNotArray)
	case b.acct.contacts == 0:
		v.invalid("contact", reasonEmpty)
	default:
		return b.acct.invalid
	}
	return v
}
