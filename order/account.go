package order

import "strconv"

// Reasons of row 15.
const (
	reasonMediumType   = "not one of: Telephone, Mobile, Email"
	reasonAccountPhone = "not a phone number (an optional '+' then 7 to 15 digits)"
)

// accountStr checks a string member of the account request: a string, not blank (the
// account document sets no length limit).
func (v *violations) accountStr(path string, f field) bool {
	switch {
	case f.k != kString:
		v.invalid(path, reasonNotString)
	case blank(f.s):
		v.invalid(path, reasonEmpty)
	default:
		return true
	}
	return false
}

func contactPath(i int) string { return "contact[" + strconv.Itoa(i) + "]" }

func mediumPath(i, j int) string { return contactPath(i) + ".contactMedium[" + strconv.Itoa(j) + "]" }

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
			v.missing(contactPath(i) + ".contactName")
		}
		if !c.partyRoleType.given() {
			v.missing(contactPath(i) + ".partyRoleType")
		}
		if !c.contactMedium.given() {
			v.missing(contactPath(i) + ".contactMedium")
		}
		for j := range c.media {
			m := &c.media[j]
			if m.k != kObject {
				continue
			}
			if !m.mediumType.given() {
				v.missing(mediumPath(i, j) + ".mediumType")
			}
			if m.characteristic.given() && m.characteristic.k != kObject {
				continue // row 15
			}
			if !m.contactType.given() {
				v.missing(mediumPath(i, j) + ".characteristic.contactType")
			}
			switch mediumKind(m.mediumType) {
			case "Telephone", "Mobile":
				if !m.phoneNumber.given() {
					v.missing(mediumPath(i, j) + ".characteristic.phoneNumber")
				}
			case "Email":
				if !m.emailAddress.given() {
					v.missing(mediumPath(i, j) + ".characteristic.emailAddress")
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
		if c.k != kObject {
			v.invalid(contactPath(i), reasonNotObject)
			continue
		}
		v.accountStr(contactPath(i)+".contactName", c.contactName)
		v.accountStr(contactPath(i)+".partyRoleType", c.partyRoleType)
		switch {
		case c.contactMedium.k != kArray:
			v.invalid(contactPath(i)+".contactMedium", reasonNotArray)
			continue
		case len(c.media) == 0:
			v.invalid(contactPath(i)+".contactMedium", reasonEmpty)
			continue
		}
		for j := range c.media {
			m := &c.media[j]
			path := mediumPath(i, j)
			if m.k != kObject {
				v.invalid(path, reasonNotObject)
				continue
			}
			if v.accountStr(path+".mediumType", m.mediumType) && mediumKind(m.mediumType) == "" {
				v.invalid(path+".mediumType", reasonMediumType)
			}
			if m.characteristic.k != kObject {
				v.invalid(path+".characteristic", reasonNotObject)
				continue
			}
			v.accountStr(path+".characteristic.contactType", m.contactType)
			switch mediumKind(m.mediumType) {
			case "Telephone", "Mobile":
				if v.accountStr(path+".characteristic.phoneNumber", m.phoneNumber) && !isAccountPhone(m.phoneNumber.s) {
					v.invalid(path+".characteristic.phoneNumber", reasonAccountPhone)
				}
			case "Email":
				if v.accountStr(path+".characteristic.emailAddress", m.emailAddress) && !isEmail(m.emailAddress.s) {
					v.invalid(path+".characteristic.emailAddress", reasonEmail)
				}
			}
		}
	}
	return v.vs
}
