package order

import "strconv"

// Reasons of row 15.
const (
	reasonMediumType   = "not one of: Telephone, Mobile, Email"
	reasonAccountPhone = "not a phone number (an optional '+' then 7 to 15 digits)"
)

// apath is the path of a member of the account body: contact[i], or
// contact[i].contactMedium[j] when j >= 0, then suffix. It is written out only for a
// violation, so that checking a valid request builds no string.
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
		v.invalid(p.String(), reasonNotString)
	case blank(f.s):
		v.invalid(p.String(), reasonEmpty)
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

// accountMissing is row 12 for the account request.
func accountMissing(b *body) []Violation {
	v := violations{row: RowMissingField}
	if !b.contact.given() {
		v.missing("contact")
		return v.vs
	}
	for i := range b.contacts {
		c := &b.contacts[i]
		if c.k != kObject {
			continue
		}
		if !c.contactName.given() {
			v.missing(contactPath(i).at(".contactName").String())
		}
		if !c.partyRoleType.given() {
			v.missing(contactPath(i).at(".partyRoleType").String())
		}
		if !c.contactMedium.given() {
			v.missing(contactPath(i).at(".contactMedium").String())
		}
		for j := range c.media {
			m := &c.media[j]
			if m.k != kObject {
				continue
			}
			if !m.mediumType.given() {
				v.missing(mediumPath(i, j).at(".mediumType").String())
			}
			if m.characteristic.given() && m.characteristic.k != kObject {
				continue // row 15
			}
			if !m.contactType.given() {
				v.missing(mediumPath(i, j).at(".characteristic.contactType").String())
			}
			switch mediumKind(m.mediumType) {
			case "Telephone", "Mobile":
				if !m.phoneNumber.given() {
					v.missing(mediumPath(i, j).at(".characteristic.phoneNumber").String())
				}
			case "Email":
				if !m.emailAddress.given() {
					v.missing(mediumPath(i, j).at(".characteristic.emailAddress").String())
				}
			}
		}
	}
	return v.vs
}

// accountInvalid is row 15: the contact part of the account request. Other first-level
// members, and unknown members inside a contact, a medium or a characteristic, are let
// through unchanged.
func accountInvalid(b *body) []Violation {
	v := violations{row: RowInvalidAccountField}
	switch {
	case b.contact.k != kArray:
		v.invalid("contact", reasonNotArray)
		return v.vs
	case len(b.contacts) == 0:
		v.invalid("contact", reasonEmpty)
		return v.vs
	}
	for i := range b.contacts {
		c := &b.contacts[i]
		cp := contactPath(i)
		if c.k != kObject {
			v.invalid(cp.String(), reasonNotObject)
			continue
		}
		v.accountStr(cp.at(".contactName"), c.contactName)
		v.accountStr(cp.at(".partyRoleType"), c.partyRoleType)
		switch {
		case c.contactMedium.k != kArray:
			v.invalid(cp.at(".contactMedium").String(), reasonNotArray)
			continue
		case len(c.media) == 0:
			v.invalid(cp.at(".contactMedium").String(), reasonEmpty)
			continue
		}
		for j := range c.media {
			m := &c.media[j]
			mp := mediumPath(i, j)
			if m.k != kObject {
				v.invalid(mp.String(), reasonNotObject)
				continue
			}
			if v.accountStr(mp.at(".mediumType"), m.mediumType) && mediumKind(m.mediumType) == "" {
				v.invalid(mp.at(".mediumType").String(), reasonMediumType)
			}
			if m.characteristic.k != kObject {
				v.invalid(mp.at(".characteristic").String(), reasonNotObject)
				continue
			}
			v.accountStr(mp.at(".characteristic.contactType"), m.contactType)
			switch mediumKind(m.mediumType) {
			case "Telephone", "Mobile":
				if v.accountStr(mp.at(".characteristic.phoneNumber"), m.phoneNumber) && !isAccountPhone(m.phoneNumber.s) {
					v.invalid(mp.at(".characteristic.phoneNumber").String(), reasonAccountPhone)
				}
			case "Email":
				if v.accountStr(mp.at(".characteristic.emailAddress"), m.emailAddress) && !isEmail(m.emailAddress.s) {
					v.invalid(mp.at(".characteristic.emailAddress").String(), reasonEmail)
				}
			}
		}
	}
	return v.vs
}
