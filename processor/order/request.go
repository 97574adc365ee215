package order

// RequestType is one of the request types the contract supports.
type RequestType uint8

// The supported request types; TypeUnknown when a request names none (or names two that
// disagree).
const (
	TypeUnknown        RequestType = iota
	TypeDisconnect                 // R_BVPN_FR_1: BVPN site disconnect, French market only
	TypeUpdate                     // U_BVPN_CUSTOM003_1: BVPN site update, template 0003
	TypeAccountContact             // PATCH-billingAccountById: contacts of a billing account
)

// String returns the request type's name as it travels in records and events
// ("" for TypeUnknown).
func (t RequestType) String() string {
	switch t {
	case TypeDisconnect:
		return "R_BVPN_FR_1"
	case TypeUpdate:
		return "U_BVPN_CUSTOM003_1"
	case TypeAccountContact:
		return "PATCH-billingAccountById"
	}
	return ""
}

// IsBVPN reports whether t is one of the two BVPN site requests.
func (t RequestType) IsBVPN() bool { return t == TypeDisconnect || t == TypeUpdate }

// ParseRequestType returns the supported type named exactly s, or TypeUnknown.
func ParseRequestType(s string) RequestType {
	switch s {
	case "R_BVPN_FR_1":
		return TypeDisconnect
	case "U_BVPN_CUSTOM003_1":
		return TypeUpdate
	case "PATCH-billingAccountById":
		return TypeAccountContact
	}
	return TypeUnknown
}

// body is a request body parsed once, in one pass, into the members every request type
// reads. Which members matter is decided after parsing, when the type is known: the body's
// `type` may come last, and the account request names its type in a header.
type body struct {
	typ               field
	requestedAt       field
	customerReference field
	contract          field
	properties        field // kind only; the members are in props
	props             properties
	// topUnknown lists, in document order, the top-level names a BVPN request does not
	// know, except "contact", whose place among them is contactUnknownAt (1 + the number
	// of names before it; 0 when absent).
	topUnknown       []string
	contactUnknownAt int
	contact          field // kind only; its elements are checked as they are parsed
	acct             accountChecks
}

type properties struct {
	servicePoint    field // kind only; the members are in sp
	sp              servicePointIDs
	contacts        field
	primary         field
	primaryPerson   person
	secondary       field
	secondaryPerson person
	profile         field
	options         field
	opts            options
	// unknown lists every unknown name inside properties, at any depth, in document order.
	unknown []unknownField
	// profileAt and optionsAt place profile and options among the unknown names (1 + the
	// number of unknown names before them; 0 when absent): only U_BVPN_CUSTOM003_1 knows them.
	profileAt, optionsAt int
}

// unknownField is a member that properties does not define, at path prefix+name (joined
// only for a violation that is kept); inOptions marks those inside properties.options,
// which a disconnect request reports as a whole instead.
type unknownField struct {
	prefix, name string
	inOptions    bool
}

type servicePointIDs struct {
	id, reference, customerReference field
}

type person struct {
	title, firstName, lastName, phone, mobile, email field
}

type options struct {
	bandwidth, wifi, multicast, quickstart, ethernet, internalAntenna, externalAntenna field
}

// parseBody reads the whole value (tests; Decide uses a pooled body). It returns a *SyntaxError (row 3) when the value is not
// a JSON object, has a duplicated name at any depth, or is not valid JSON.
func parseBody(s string) (*body, *SyntaxError) {
	b := &body{}
	if err := parseBodyInto(s, b); err != nil {
		return nil, err
	}
	return b, nil
}

// parseBodyInto is parseBody into a body the caller owns (on its stack, on the hot path).
func parseBodyInto(s string, b *body) *SyntaxError {
	p := scanner{s: s}
	c := p.peek()
	if c != '{' {
		if p.pos >= len(p.s) {
			p.fail(p.pos, "The body is not valid JSON: it holds only white space")
			return p.err
		}
		at := p.pos
		if p.skipValue(0) && p.end() {
			p.fail(at, "The body is "+describeKind(c)+", not a JSON object")
		}
		return p.err
	}
	var it members
	p.beginObject(&it, 1)
	for {
		name, ok := p.nextMember(&it)
		if !ok {
			break
		}
		switch name {
		case "type":
			b.typ = p.scalar(1)
		case "requestedAt":
			b.requestedAt = p.scalar(1)
		case "customerReference":
			b.customerReference = p.scalar(1)
		case "contract":
			b.contract = p.scalar(1)
		case "properties":
			b.properties = p.object(1, func(name string, d int) { p.parseProperty(&b.props, name, d) })
		case "contact":
			b.contactUnknownAt = len(b.topUnknown) + 1
			b.contact = p.array(1, func(d int) { p.parseAccountContact(&b.acct, d) })
		default:
			b.topUnknown = append(b.topUnknown, name)
			p.skipValue(1)
		}
	}
	if !p.end() {
		return p.err
	}
	return nil
}

// object reads a member expected to be an object: its members go to each; any other kind is
// only recorded.
func (p *scanner) object(depth int, each func(name string, depth int)) field {
	if p.peek() != '{' {
		return p.scalar(depth)
	}
	var it members
	if !p.beginObject(&it, depth+1) {
		return field{}
	}
	for {
		name, ok := p.nextMember(&it)
		if !ok {
			break
		}
		each(name, depth+1)
	}
	return field{k: kObject}
}

// array reads a member expected to be an array: each element is handed to each; any other
// kind is only recorded.
func (p *scanner) array(depth int, each func(depth int)) field {
	if p.peek() != '[' {
		return p.scalar(depth)
	}
	var it elements
	if !p.beginArray(&it, depth+1) {
		return field{}
	}
	for p.nextElement(&it) {
		each(depth + 1)
	}
	return field{k: kArray}
}

func (p *scanner) parseProperty(pr *properties, name string, d int) {
	switch name {
	case "servicePoint":
		pr.servicePoint = p.object(d, func(name string, d int) {
			switch name {
			case "id":
				pr.sp.id = p.scalar(d)
			case "reference":
				pr.sp.reference = p.scalar(d)
			case "customerReference":
				pr.sp.customerReference = p.scalar(d)
			default:
				p.unknownProperty(pr, "properties.servicePoint.", name, d, false)
			}
		})
	case "contacts":
		pr.contacts = p.object(d, func(name string, d int) {
			switch name {
			case "primary":
				pr.primary = p.object(d, func(name string, d int) {
					p.parsePerson(pr, &pr.primaryPerson, "properties.contacts.primary.", name, d)
				})
			case "secondary":
				pr.secondary = p.object(d, func(name string, d int) {
					p.parsePerson(pr, &pr.secondaryPerson, "properties.contacts.secondary.", name, d)
				})
			default:
				p.unknownProperty(pr, "properties.contacts.", name, d, false)
			}
		})
	case "profile":
		pr.profileAt = len(pr.unknown) + 1
		pr.profile = p.scalar(d)
	case "options":
		pr.optionsAt = len(pr.unknown) + 1
		pr.options = p.object(d, func(name string, d int) { p.parseOption(pr, name, d) })
	default:
		p.unknownProperty(pr, "properties.", name, d, false)
	}
}

// unknownProperty records an unknown member inside properties and skips its value.
func (p *scanner) unknownProperty(pr *properties, prefix, name string, d int, inOptions bool) {
	pr.unknown = append(pr.unknown, unknownField{prefix: prefix, name: name, inOptions: inOptions})
	p.skipValue(d)
}

func (p *scanner) parsePerson(pr *properties, ps *person, prefix, name string, d int) {
	switch name {
	case "title":
		ps.title = p.scalar(d)
	case "firstName":
		ps.firstName = p.scalar(d)
	case "lastName":
		ps.lastName = p.scalar(d)
	case "phone":
		ps.phone = p.scalar(d)
	case "mobile":
		ps.mobile = p.scalar(d)
	case "email":
		ps.email = p.scalar(d)
	default:
		p.unknownProperty(pr, prefix, name, d, false)
	}
}

func (p *scanner) parseOption(pr *properties, name string, d int) {
	o := &pr.opts
	switch name {
	case "bandwidth":
		o.bandwidth = p.scalar(d)
	case "wifi":
		o.wifi = p.scalar(d)
	case "multicast":
		o.multicast = p.scalar(d)
	case "quickstart":
		o.quickstart = p.scalar(d)
	case "ethernet":
		o.ethernet = p.scalar(d)
	case "internal_antenna":
		o.internalAntenna = p.scalar(d)
	case "external_antenna":
		o.externalAntenna = p.scalar(d)
	default:
		p.unknownProperty(pr, "properties.options.", name, d, true)
	}
}

// parseAccountContact parses the next element of the contact array and checks it (see
// accountChecks); a body that turns out not to be valid JSON discards the checks.
func (p *scanner) parseAccountContact(a *accountChecks, d int) {
	i := a.contacts
	a.contacts++
	a.beginContact()
	c := &a.c
	c.k = p.object(d, func(name string, d int) {
		switch name {
		case "contactName":
			c.contactName = p.scalar(d)
		case "partyRoleType":
			c.partyRoleType = p.scalar(d)
		case "contactMedium":
			c.contactMedium = p.array(d, func(d int) {
				j := c.media
				c.media++
				a.m = medium{}
				p.parseMedium(&a.m, d)
				if p.err == nil {
					a.medium(i, j)
				}
			})
		default:
			p.skipValue(d)
		}
	}).k
	if p.err == nil {
		a.endContact(i)
	}
}

func (p *scanner) parseMedium(m *medium, d int) {
	m.k = p.object(d, func(name string, d int) {
		switch name {
		case "mediumType":
			m.mediumType = p.scalar(d)
		case "characteristic":
			m.characteristic = p.object(d, func(name string, d int) {
				switch name {
				case "contactType":
					m.contactType = p.scalar(d)
				case "phoneNumber":
					m.phoneNumber = p.scalar(d)
				case "emailAddress":
					m.emailAddress = p.scalar(d)
				default:
					p.skipValue(d)
				}
			})
		default:
			p.skipValue(d)
		}
	}).k
}
