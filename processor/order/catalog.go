package order

import "strings"

// Row identifies one row of the decision table of the contract (section 3). Rows are
// checked in ascending order; the first row that finds a violation decides.
type Row uint8

// The rows of the decision table, in the order they are checked.
const (
	RowMissingBody          Row = 1  // value empty
	RowTooLarge             Row = 2  // value larger than the configured limit
	RowInvalidBody          Row = 3  // not UTF-8, not JSON, not an object, duplicated key
	RowHeaderConflict       Row = 4  // a header read by the contract given twice with different values
	RowMissingCredentials   Row = 5  // client_id or client_secret missing
	RowInvalidCredentials   Row = 6  // credentials wrong or too short
	RowMissingType          Row = 7  // no body type and no type header
	RowUnsupportedType      Row = 8  // type not a string, empty, unknown, or header and body disagree
	RowMissingHeader        Row = 9  // businessId or id header of the account request missing
	RowInvalidHeader        Row = 10 // businessId not an assigned ISO 3166-1 alpha-2 code, id empty
	RowAccessDenied         Row = 11 // client not allowed for the businessId
	RowMissingField         Row = 12 // a required field missing (null counts as missing)
	RowInvalidEnvelope      Row = 13 // a BVPN envelope field invalid
	RowInvalidProperties    Row = 14 // a field inside properties invalid
	RowInvalidAccountField  Row = 15 // a field of the account request's body invalid
	RowRequestedAt          Row = 16 // requestedAt rule of R_BVPN_FR_1
	RowSeveralServicePoints Row = 17 // several service points match
	RowNoServicePoint       Row = 18 // none matches, or the identifiers disagree
	RowNotFrenchMarket      Row = 19 // resolved service point not in the French market
)

// Entry is one row of the catalog: what the synchronous API would have answered.
// Description is a template in the contract's notation, with its blanks in braces:
// {PATH} and {HEADER} are filled from the violation's field (the path, or the header's
// name), {X}, {MSG} and {N} from its argument. The contract writes {HEADER} as X.
type Entry struct {
	Row         Row
	Status      int
	Code        int
	Message     string
	Description string
	// ByType holds the descriptions that differ by request type (row 17 only).
	ByType map[RequestType]string
	// Field tells what the violation's field holds, for the generated documentation.
	Field string
}

// Catalog is the decision table of the contract, one entry per row, in row order.
// It is the only place that holds statuses, codes, messages and description texts;
// docs/codes.md is generated from it (see the test in catalog_test.go).
var Catalog = [...]Entry{
	{Row: RowMissingBody, Status: 400, Code: 21, Message: "Missing body",
		Description: "The request body is missing.", Field: "none"},
	{Row: RowTooLarge, Status: 413, Code: 66, Message: "Request entity too large",
		Description: "The request body exceeds {N} bytes.", Field: "none"},
	{Row: RowInvalidBody, Status: 400, Code: 22, Message: "Invalid body",
		Description: "{MSG}", Field: "none"},
	{Row: RowHeaderConflict, Status: 400, Code: 26, Message: "Invalid header value",
		Description: "The header '{HEADER}' is given twice.", Field: "headers.NAME"},
	{Row: RowMissingCredentials, Status: 401, Code: 40, Message: "Missing credentials",
		Description: "The header '{HEADER}' is missing.", Field: "headers.client_id, headers.client_secret"},
	{Row: RowInvalidCredentials, Status: 401, Code: 41, Message: "Invalid credentials",
		Description: "The credentials are not valid.", Field: "headers.client_id, headers.client_secret"},
	{Row: RowMissingType, Status: 412, Code: 65, Message: "Precondition failed",
		Description: "The mandatory field 'type' is missing.", Field: "type"},
	{Row: RowUnsupportedType, Status: 400, Code: 24, Message: "Invalid body field",
		Description: "The field 'type' has an unsupported value: {X}.", Field: "type, headers.type"},
	{Row: RowMissingHeader, Status: 400, Code: 25, Message: "Missing header",
		Description: "The header '{HEADER}' is missing.", Field: "headers.businessId, headers.id"},
	{Row: RowInvalidHeader, Status: 400, Code: 26, Message: "Invalid header value",
		Description: "The header '{HEADER}' is not valid: {MSG}", Field: "headers.businessId, headers.id"},
	{Row: RowAccessDenied, Status: 403, Code: 50, Message: "Access denied",
		Description: "The client is not allowed for business unit {X}.", Field: "headers.businessId"},
	{Row: RowMissingField, Status: 412, Code: 65, Message: "Precondition failed",
		Description: "The mandatory field '{PATH}' is missing.", Field: "PATH"},
	{Row: RowInvalidEnvelope, Status: 400, Code: 24, Message: "Invalid body field",
		Description: "The field '{PATH}' is not valid: {MSG}", Field: "PATH"},
	{Row: RowInvalidProperties, Status: 422, Code: 3620, Message: "Properties item is not valid",
		Description: "The 'properties' attribute is not valid due to the following error : {MSG}", Field: "PATH"},
	{Row: RowInvalidAccountField, Status: 400, Code: 24, Message: "Invalid body field",
		Description: "The field '{PATH}' is not valid: {MSG}", Field: "PATH"},
	{Row: RowRequestedAt, Status: 422, Code: 3611, Message: "RequestedAt not Valid",
		Description: "The requestedAt date must be 20 days minimum and must be a working day in France.", Field: "requestedAt"},
	{Row: RowSeveralServicePoints, Status: 422, Code: 3621, Message: "Several Products match criterias",
		Description: "Several Service Points match the criteria. Disconnection can be requested on only one Service Point.",
		ByType: map[RequestType]string{
			TypeUpdate: "Several services can match criterias.",
		},
		Field: "properties.servicePoint"},
	{Row: RowNoServicePoint, Status: 422, Code: 3622, Message: "No Service Point match criteria",
		Description: "No Service Point was found with the current criteria.", Field: "properties.servicePoint"},
	{Row: RowNotFrenchMarket, Status: 422, Code: 3620, Message: "Properties item is not valid",
		Description: "The 'properties' attribute is not valid due to the following error : the service point is not in the French market",
		Field:       "properties.servicePoint"},
}

// EntryOf returns the catalog entry of a row.
func EntryOf(r Row) *Entry {
	if r < RowMissingBody || int(r) > len(Catalog) {
		return nil
	}
	return &Catalog[r-1]
}

// Violation is one finding of a row: the row, the field at fault (a path from the body's
// root, or headers.NAME; empty for rows 1-3) and the argument its description needs (the
// X, MSG or N of the template; the field itself stands for PATH and HEADER).
type Violation struct {
	Row   Row
	Field string
	Arg   string
}

// Status is the HTTP status of the violation's row.
func (v Violation) Status() int { return EntryOf(v.Row).Status }

// Code is the documented error code of the violation's row.
func (v Violation) Code() int { return EntryOf(v.Row).Code }

// Message is the documented message of the violation's row.
func (v Violation) Message() string { return EntryOf(v.Row).Message }

// Description is the row's description template filled in for this violation and the
// request type (row 17 has one text per BVPN type).
func (v Violation) Description(t RequestType) string {
	e := EntryOf(v.Row)
	tmpl := e.Description
	if alt, ok := e.ByType[t]; ok {
		tmpl = alt
	}
	return fill(tmpl, v)
}

func fill(tmpl string, v Violation) string {
	i := strings.IndexByte(tmpl, '{')
	if i < 0 {
		return tmpl
	}
	j := strings.IndexByte(tmpl[i:], '}')
	if j < 0 {
		return tmpl
	}
	val := v.Arg
	switch tmpl[i : i+j+1] {
	case "{PATH}":
		val = v.Field
	case "{HEADER}":
		val = strings.TrimPrefix(v.Field, "headers.")
	}
	return tmpl[:i] + val + fill(tmpl[i+j+1:], v)
}

// DescriptionLen is len(v.Description(t)), computed without building the text: the event
// builder reserves room for what it will write without writing it twice.
func (v Violation) DescriptionLen(t RequestType) int {
	e := EntryOf(v.Row)
	tmpl := e.Description
	if alt, ok := e.ByType[t]; ok {
		tmpl = alt
	}
	n := 0
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return n + len(tmpl)
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return n + len(tmpl)
		}
		n += i
		switch tmpl[i : i+j+1] {
		case "{PATH}":
			n += len(v.Field)
		case "{HEADER}":
			n += len(strings.TrimPrefix(v.Field, "headers."))
		default:
			n += len(v.Arg)
		}
		tmpl = tmpl[i+j+1:]
	}
}
