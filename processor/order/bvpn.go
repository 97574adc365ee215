package order

import "github.com/ordergate/ordergate/processor/order/workday"

// Reasons written into the MSG of rows 13-15.
const (
	reasonNotString = "not a string"
	reasonNotObject = "not an object"
	reasonNotArray  = "not an array"
	reasonEmpty     = "empty"
	reasonTooLong   = "more than 255 characters"
	reasonUnknown   = "unknown field"
	reasonDate      = "not a date in the form YYYY-MM-DD"
	reasonE164      = "not an E.164 phone number ('+' then 8 to 15 digits, the first not 0)"
	reasonEmail     = "not one e-mail address"
	reasonTitle     = "not one of: M., Mrs."
	reasonProfile   = "not one of: FDJ CONNECT OPTIMA 8M, FDJ CONNECT OPTIMA 18M, FDJ CONNECT FTTH, FDJ CONNECT ULTIME, FDJ CONNECT CELL"
	reasonBandwidth = "not one of: 8M, 1M, Extended"
)

// strProblem checks a BVPN string member: a string, not blank, at most 255 characters.
func strProblem(f field) string {
	switch {
	case f.k != kString:
		return reasonNotString
	case blank(f.s):
		return reasonEmpty
	case tooLong(f.s):
		return reasonTooLong
	}
	return ""
}

// str checks a given string member and records what is wrong with it; it reports whether
// the member is a valid string.
func (v *violations) str(path string, f field) bool {
	if p := strProblem(f); p != "" {
		v.invalid(path, p)
		return false
	}
	return true
}

// bvpnMissing is row 12 for the BVPN requests.
func bvpnMissing(b *body, t RequestType) violations {
	v := violations{row: RowMissingField}
	if !b.typ.given() {
		v.missing("type")
	}
	if t == TypeDisconnect && !b.requestedAt.given() {
		v.missing("requestedAt")
	}
	if !b.properties.given() {
		v.missing("properties")
		return v
	}
	if b.properties.k != kObject {
		return v
	}
	pr := &b.props
	sp := &pr.sp
	if !pr.servicePoint.given() ||
		pr.servicePoint.k == kObject && !sp.id.given() && !sp.reference.given() && !sp.customerReference.given() {
		v.missing("properties.servicePoint")
	}
	switch {
	case !pr.contacts.given():
		v.missing("properties.contacts")
	case pr.contacts.k != kObject:
	case !pr.primary.given():
		v.missing("properties.contacts.primary")
	case pr.primary.k == kObject:
		ps := &pr.primaryPerson
		p := &primaryPaths
		for _, m := range [...]member{
			{p.title, ps.title}, {p.firstName, ps.firstName}, {p.lastName, ps.lastName},
			{p.phone, ps.phone}, {p.mobile, ps.mobile}, {p.email, ps.email},
		} {
			if !m.f.given() {
				v.missing(m.path)
			}
		}
	}
	if t == TypeUpdate {
		if !pr.profile.given() {
			v.missing("properties.profile")
		}
		switch {
		case !pr.options.given():
			v.missing("properties.options")
		case pr.options.k == kObject:
			for _, o := range pr.opts.members() {
				if !o.f.given() {
					v.missing(o.path)
				}
			}
		}
	}
	return v
}

type member struct {
	path string
	f    field
}

func (o *options) members() [7]member {
	return [...]member{
		{"properties.options.bandwidth", o.bandwidth},
		{"properties.options.wifi", o.wifi},
		{"properties.options.multicast", o.multicast},
		{"properties.options.quickstart", o.quickstart},
		{"properties.options.ethernet", o.ethernet},
		{"properties.options.internal_antenna", o.internalAntenna},
		{"properties.options.external_antenna", o.externalAntenna},
	}
}

// bvpnEnvelope is row 13: the top-level members of a BVPN request.
func bvpnEnvelope(b *body) violations {
	v := violations{row: RowInvalidEnvelope}
	if b.requestedAt.given() && v.str("requestedAt", b.requestedAt) {
		if _, ok := workday.ParseDate(b.requestedAt.s); !ok {
			v.invalid("requestedAt", reasonDate)
		}
	}
	if b.customerReference.given() {
		v.str("customerReference", b.customerReference)
	}
	if b.contract.given() {
		v.str("contract", b.contract)
	}
	if b.properties.given() && b.properties.k != kObject {
		v.invalid("properties", reasonNotObject)
	}
	for i := 0; i <= len(b.topUnknown); i++ {
		if b.contactUnknownAt == i+1 {
			v.invalid("contact", reasonUnknown)
		}
		if i < len(b.topUnknown) {
			v.invalid(b.topUnknown[i], reasonUnknown)
		}
	}
	return v
}

// bvpnProperties is row 14: every member inside properties.
func bvpnProperties(pr *properties, t RequestType) violations {
	v := violations{row: RowInvalidProperties}
	if pr.servicePoint.given() {
		if pr.servicePoint.k != kObject {
			v.invalid("properties.servicePoint", reasonNotObject)
		} else {
			for _, m := range [...]member{
				{"properties.servicePoint.id", pr.sp.id},
				{"properties.servicePoint.reference", pr.sp.reference},
				{"properties.servicePoint.customerReference", pr.sp.customerReference},
			} {
				if m.f.given() {
					v.str(m.path, m.f)
				}
			}
		}
	}
	if pr.contacts.given() {
		if pr.contacts.k != kObject {
			v.invalid("properties.contacts", reasonNotObject)
		} else {
			v.person(&primaryPaths, pr.primary, &pr.primaryPerson, t)
			v.person(&secondaryPaths, pr.secondary, &pr.secondaryPerson, t)
		}
	}
	if t == TypeUpdate {
		if pr.profile.given() && v.str("properties.profile", pr.profile) && !validProfile(pr.profile.s) {
			v.invalid("properties.profile", reasonProfile)
		}
		if pr.options.given() {
			if pr.options.k != kObject {
				v.invalid("properties.options", reasonNotObject)
			} else {
				for i, o := range pr.opts.members() {
					if o.f.given() && v.str(o.path, o.f) && i == 0 && !validBandwidth(o.f.s) {
						v.invalid(o.path, reasonBandwidth)
					}
				}
			}
		}
	}
	v.unknown(pr, t)
	return v
}

// personPaths are the field paths of one contact person, written out so that checking a
// valid request builds no string.
type personPaths struct {
	self, title, firstName, lastName, phone, mobile, email string
}

func pathsOf(prefix string) personPaths {
	return personPaths{prefix, prefix + ".title", prefix + ".firstName", prefix + ".lastName",
		prefix + ".phone", prefix + ".mobile", prefix + ".email"}
}

var (
	primaryPaths   = pathsOf("properties.contacts.primary")
	secondaryPaths = pathsOf("properties.contacts.secondary")
)

// person checks the given members of a contact person.
func (v *violations) person(p *personPaths, f field, ps *person, t RequestType) {
	if !f.given() {
		return
	}
	if f.k != kObject {
		v.invalid(p.self, reasonNotObject)
		return
	}
	if ps.title.given() && v.str(p.title, ps.title) && t == TypeUpdate &&
		ps.title.s != "M." && ps.title.s != "Mrs." {
		v.invalid(p.title, reasonTitle)
	}
	if ps.firstName.given() {
		v.str(p.firstName, ps.firstName)
	}
	if ps.lastName.given() {
		v.str(p.lastName, ps.lastName)
	}
	if ps.phone.given() && v.str(p.phone, ps.phone) && !isE164(ps.phone.s) {
		v.invalid(p.phone, reasonE164)
	}
	if ps.mobile.given() && v.str(p.mobile, ps.mobile) && !isE164(ps.mobile.s) {
		v.invalid(p.mobile, reasonE164)
	}
	if ps.email.given() && v.str(p.email, ps.email) && !isEmail(ps.email.s) {
		v.invalid(p.email, reasonEmail)
	}
}

// unknown reports the unknown members of properties in document order. For a disconnect
// request, profile and options are unknown too (reported as a whole, not their members).
func (v *violations) unknown(pr *properties, t RequestType) {
	disconnect := t == TypeDisconnect
	for i := 0; i <= len(pr.unknown); i++ {
		if disconnect && pr.profileAt == i+1 {
			v.invalid("properties.profile", reasonUnknown)
		}
		if disconnect && pr.optionsAt == i+1 {
			v.invalid("properties.options", reasonUnknown)
		}
		if i == len(pr.unknown) {
			break
		}
		if u := pr.unknown[i]; !(disconnect && u.inOptions) {
			v.invalidName(u.prefix, u.name, reasonUnknown)
		}
	}
}

func validProfile(s string) bool {
	switch s {
	case "FDJ CONNECT OPTIMA 8M", "FDJ CONNECT OPTIMA 18M", "FDJ CONNECT FTTH", "FDJ CONNECT ULTIME", "FDJ CONNECT CELL":
		return true
	}
	return false
}

func validBandwidth(s string) bool {
	return s == "8M" || s == "1M" || s == "Extended"
}
