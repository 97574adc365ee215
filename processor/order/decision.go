package order

// Outcome is where a decision stands.
type Outcome uint8

// The outcomes of a decision. NeedsServicePoint is the only one that is not final: the
// request passed every pure row (1-16) and waits for the service point its Lookup names.
const (
	NeedsServicePoint Outcome = iota
	Accepted
	Rejected
)

// String returns accepted, rejected or pending.
func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	}
	return "pending"
}

// BillingAccount names the account of an account request (headers businessId and id).
type BillingAccount struct {
	BusinessID string
	ID         string
}

// Decision is what ordergate decides for one record. It is a plain value: the same record
// gives the same decision.
type Decision struct {
	Outcome Outcome
	// Type is the supported request type the record names (body type, else the type
	// header); TypeUnknown when it names none or the two disagree.
	Type RequestType
	// Errors lists the violations of the deciding row, in the contract's order, at most
	// MaxErrors of them; the first is the event's error. Empty unless Outcome is Rejected.
	Errors []Violation
	// ErrorsTruncated reports that the deciding row found more than MaxErrors violations:
	// Errors holds the first ones.
	ErrorsTruncated bool
	// Warnings are, in section 1 order, an X-Correlation-ID that was ignored (any request)
	// and the deprecated headers of an account request.
	Warnings []string
	// BillingAccount is set on account requests whose businessId and id headers were given,
	// non-empty and not in conflict.
	BillingAccount *BillingAccount
	// ServicePoint is the resolved service point (also on a row-19 rejection): the one
	// element of the matches given to Resolve, not a copy (matches are read-only answers).
	ServicePoint *ServicePoint
	// Lookup is the service-point query to answer when Outcome is NeedsServicePoint.
	Lookup Lookup
	// BodyIsObject reports that the value passed row 3: a JSON object the event embeds.
	BodyIsObject bool

	// ids are the service-point identifiers the request gave (id, reference,
	// customerReference), for the agreement check of row 18.
	ids [3]field
}

// Error returns the deciding violation (the first of Errors), or nil when not rejected.
func (d *Decision) Error() *Violation {
	if len(d.Errors) == 0 {
		return nil
	}
	return &d.Errors[0]
}

func (d *Decision) reject(vs []Violation) {
	d.Outcome = Rejected
	d.Errors = vs
}

// Resolve applies rows 17-19 to a decision that needs a service point, from the service
// points that match its Lookup. It does nothing to a final decision. The decision keeps a
// pointer to the matching element: matches must not be modified while it is in use.
func (d *Decision) Resolve(matches []ServicePoint) {
	if d.Outcome != NeedsServicePoint {
		return
	}
	const field = "properties.servicePoint"
	switch len(matches) {
	case 0:
		d.reject([]Violation{{Row: RowNoServicePoint, Field: field}})
		return
	case 1:
	default:
		d.reject([]Violation{{Row: RowSeveralServicePoints, Field: field}})
		return
	}
	sp := &matches[0] // not copied: one allocation per record less
	given := [3]string{sp.ID, sp.Reference, sp.CustomerReference}
	for i, f := range d.ids {
		if f.given() && f.s != given[i] {
			d.reject([]Violation{{Row: RowNoServicePoint, Field: field}})
			return
		}
	}
	d.ServicePoint = sp
	if d.Type == TypeDisconnect && sp.Market != "FR" {
		d.reject([]Violation{{Row: RowNotFrenchMarket, Field: field}})
		return
	}
	d.Outcome = Accepted
}
