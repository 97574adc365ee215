package order

import (
	"strings"
	"testing"
	"time"
)

type ruleCase struct {
	name  string
	rules Rules
	rec   *Record
	want  []string // "row field" of every violation, in order; nil = passes rows 1-16
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.rules.Decide(tc.rec)
			g := got(d)
			if strings.Join(g, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("violations\n got %q\nwant %q", g, tc.want)
			}
			if tc.want == nil && d.Outcome == Rejected {
				t.Fatalf("rejected without violations")
			}
			if tc.want != nil && d.Outcome != Rejected {
				t.Fatalf("outcome %v, want rejected", d.Outcome)
			}
		})
	}
}

func TestBVPNEnvelope(t *testing.T) {
	d, u := disconnectBody, updateBody
	long := strings.Repeat("a", 255)
	longUni := strings.Repeat("é", 255)
	runRuleCases(t, []ruleCase{
		{name: "disconnect seed example: contracts leaves contacts missing",
			rec:  rec(strings.Replace(edit(t, d, "requestedAt", `"2022-06-01"`), `"contacts"`, `"contracts"`, 1)),
			want: []string{"12 properties.contacts"}},
		{name: "unknown top-level field", rec: rec(edit(t, d, "foo", `1`)), want: []string{"13 foo"}},
		{name: "contact is unknown to BVPN", rec: rec(edit(t, d, "contact", `[]`)), want: []string{"13 contact"}},
		{name: "requestedAt required for disconnect", rec: rec(edit(t, d, "requestedAt", "-")), want: []string{"12 requestedAt"}},
		{name: "requestedAt null is missing", rec: rec(edit(t, d, "requestedAt", "null")), want: []string{"12 requestedAt"}},
		{name: "requestedAt optional for update", rec: rec(edit(t, u, "requestedAt", "-"))},
		{name: "requestedAt empty", rec: rec(edit(t, d, "requestedAt", `""`)), want: []string{"13 requestedAt"}},
		{name: "requestedAt blank", rec: rec(edit(t, d, "requestedAt", `"  "`)), want: []string{"13 requestedAt"}},
		{name: "requestedAt number", rec: rec(edit(t, d, "requestedAt", `20270104`)), want: []string{"13 requestedAt"}},
		{name: "requestedAt not a real date", rec: rec(edit(t, d, "requestedAt", `"2027-02-30"`)), want: []string{"13 requestedAt"}},
		{name: "requestedAt without zero padding", rec: rec(edit(t, d, "requestedAt", `"2027-1-4"`)), want: []string{"13 requestedAt"}},
		{name: "requestedAt with a time", rec: rec(edit(t, u, "requestedAt", `"2026-12-10T10:00:00Z"`)), want: []string{"13 requestedAt"}},
		{name: "customerReference 255 characters", rec: rec(edit(t, d, "customerReference", `"`+long+`"`))},
		{name: "customerReference 255 two-byte characters", rec: rec(edit(t, d, "customerReference", `"`+longUni+`"`))},
		{name: "customerReference 256 characters", rec: rec(edit(t, d, "customerReference", `"`+long+`b"`)), want: []string{"13 customerReference"}},
		{name: "customerReference 256 two-byte characters", rec: rec(edit(t, d, "customerReference", `"`+longUni+`é"`)), want: []string{"13 customerReference"}},
		{name: "contract a number", rec: rec(edit(t, d, "contract", `256060`)), want: []string{"13 contract"}},
		{name: "contract empty", rec: rec(edit(t, d, "contract", `""`)), want: []string{"13 contract"}},
		{name: "properties a string", rec: rec(edit(t, d, "properties", `"x"`)), want: []string{"13 properties"}},
		{name: "properties an array", rec: rec(edit(t, d, "properties", `[]`)), want: []string{"13 properties"}},
		{name: "properties null", rec: rec(edit(t, d, "properties", `null`)), want: []string{"12 properties"}},
		{name: "properties missing", rec: rec(edit(t, d, "properties", `-`)), want: []string{"12 properties"}},
		{name: "envelope violations listed together", rec: rec(edits(t, d, "contract", `1`, "requestedAt", `"x"`, "zz", `1`, "customerReference", `""`)),
			want: []string{"13 requestedAt", "13 customerReference", "13 contract", "13 zz"}},
		{name: "row 12 before row 13", rec: rec(edits(t, d, "contract", `1`, "properties.contacts.primary.email", "-")),
			want: []string{"12 properties.contacts.primary.email"}},
		{name: "row 13 before row 14", rec: rec(edits(t, d, "contract", `1`, "properties.contacts.primary.email", `"x"`)),
			want: []string{"13 contract"}},
	})
}

func TestType(t *testing.T) {
	d := disconnectBody
	runRuleCases(t, []ruleCase{
		{name: "type missing everywhere", rec: rec(edit(t, d, "type", "-")), want: []string{"7 type"}},
		{name: "type null", rec: rec(edit(t, d, "type", "null")), want: []string{"7 type"}},
		{name: "type empty", rec: rec(edit(t, d, "type", `""`)), want: []string{"8 type"}},
		{name: "type a number", rec: rec(edit(t, d, "type", `3`)), want: []string{"8 type"}},
		{name: "type an object", rec: rec(edit(t, d, "type", `{}`)), want: []string{"8 type"}},
		{name: "type unknown", rec: rec(edit(t, d, "type", `"R_BVPN_FR_2"`)), want: []string{"8 type"}},
		{name: "type case matters", rec: rec(edit(t, d, "type", `"r_bvpn_fr_1"`)), want: []string{"8 type"}},
		{name: "BVPN type only as a header leaves the body's type missing",
			rec: rec(edit(t, d, "type", "-"), "type=R_BVPN_FR_1"), want: []string{"12 type"}},
		{name: "header agrees with body", rec: rec(d, "type=R_BVPN_FR_1")},
		{name: "header name without regard to case", rec: rec(d, "TYPE=R_BVPN_FR_1")},
		{name: "header disagrees with body", rec: rec(d, "Type=U_BVPN_CUSTOM003_1"), want: []string{"8 headers.type"}},
		{name: "unknown header type alone", rec: rec(edit(t, d, "type", "-"), "type=FOO"), want: []string{"8 headers.type"}},
		{name: "empty header type alone", rec: rec(edit(t, d, "type", "-"), "type="), want: []string{"8 headers.type"}},
		{name: "account header with a BVPN body type", rec: rec(d, accountHeaders...), want: []string{"8 headers.type"}},
		{name: "type header given twice with different values",
			rec: rec(d, "type=R_BVPN_FR_1", "type=U_BVPN_CUSTOM003_1"), want: []string{"4 headers.type"}},
		{name: "a header given twice with the same value", rec: rec(d, "type=R_BVPN_FR_1", "TYPE=R_BVPN_FR_1")},
		{name: "headers the contract does not read may repeat", rec: rec(d, "foo=1", "foo=2")},
		{name: "row 3 before row 4", rec: rec(`[]`, "type=a", "type=b"), want: []string{"3 "}},
		{name: "conflicts listed in section 1 order",
			rec:  rec(accountBody, append(accountHeaders, "x-correlation-id=a", "X-Correlation-ID=b", "id=other")...),
			want: []string{"4 headers.id", "4 headers.X-Correlation-ID"}},
	})
}

func TestCredentials(t *testing.T) {
	a, d := accountBody, disconnectBody
	clients := Rules{Clients: testClients(t)}
	base := []string{"type=PATCH-billingAccountById", "businessId=JM", "id=ACC-1"}
	runRuleCases(t, []ruleCase{
		{name: "account: both missing", rec: rec(a, base...), want: []string{"5 headers.client_id", "5 headers.client_secret"}},
		{name: "account: id missing", rec: rec(a, append(base, "client_secret=s3cret")...), want: []string{"5 headers.client_id"}},
		{name: "account: id of 4 characters", rec: rec(a, append(base, "client_id=abcd", "client_secret=s3cret")...), want: []string{"6 headers.client_id"}},
		{name: "account: both too short", rec: rec(a, append(base, "client_id=", "client_secret=1234")...),
			want: []string{"6 headers.client_id", "6 headers.client_secret"}},
		{name: "account: 5 characters are enough", rec: rec(a, append(base, "client_id=abcde", "client_secret=éééée")...)},
		{name: "account named by the body's type needs credentials too",
			rec:  rec(edit(t, a, "type", `"PATCH-billingAccountById"`), "businessId=JM", "id=ACC-1"),
			want: []string{"5 headers.client_id", "5 headers.client_secret"}},
		{name: "BVPN without a clients file needs none", rec: rec(d)},
		{name: "BVPN with a clients file needs them", rules: clients, rec: rec(d), want: []string{"5 headers.client_id", "5 headers.client_secret"}},
		{name: "wrong secret", rules: clients, rec: rec(d, "client_id=jm-channel", "client_secret=jm-secret-2"), want: []string{"6 headers.client_secret"}},
		{name: "unknown client", rules: clients, rec: rec(d, "client_id=nobody", "client_secret=jm-secret-1"), want: []string{"6 headers.client_secret"}},
		{name: "known client on BVPN", rules: clients, rec: rec(d, "CLIENT_ID=jm-channel", "Client_Secret=jm-secret-1")},
		{name: "credentials before type", rules: clients, rec: rec(edit(t, d, "type", "-")), want: []string{"5 headers.client_id", "5 headers.client_secret"}},
		{name: "client not allowed for the business unit", rules: clients,
			rec:  rec(a, "type=PATCH-billingAccountById", "businessId=PA", "id=ACC-1", "client_id=jm-channel", "client_secret=jm-secret-1"),
			want: []string{"11 headers.businessId"}},
	})
}

func TestAccountHeaders(t *testing.T) {
	a := accountBody
	creds := []string{"type=PATCH-billingAccountById", "client_id=channel-1", "client_secret=s3cret-1"}
	h := func(extra ...string) []string { return append(append([]string{}, creds...), extra...) }
	cases := []ruleCase{
		{name: "both missing", rec: rec(a, h()...), want: []string{"9 headers.businessId", "9 headers.id"}},
		{name: "id missing", rec: rec(a, h("businessId=PA")...), want: []string{"9 headers.id"}},
		{name: "id empty", rec: rec(a, h("businessId=PA", "id=")...), want: []string{"10 headers.id"}},
		{name: "id blank", rec: rec(a, h("businessId=PA", "id=  ")...), want: []string{"10 headers.id"}},
		{name: "both invalid", rec: rec(a, h("businessId=", "id=")...), want: []string{"10 headers.businessId", "10 headers.id"}},
	}
	for _, bad := range []string{"UK", "EU", "XX", "ZZ", "pa", "Pa", "FRA", "YU", "P", "P1"} {
		cases = append(cases, ruleCase{name: "businessId " + bad, rec: rec(a, h("businessId="+bad, "id=1")...), want: []string{"10 headers.businessId"}})
	}
	for _, good := range []string{"PA", "JM", "TT", "BB", "FR"} {
		cases = append(cases, ruleCase{name: "businessId " + good, rec: rec(a, h("businessId="+good, "id=1")...)})
	}
	runRuleCases(t, cases)
}

func TestServicePointAndContacts(t *testing.T) {
	d, u := disconnectBody, updateBody
	sp := "properties.servicePoint"
	pri := "properties.contacts.primary"
	sec := "properties.contacts.secondary"
	runRuleCases(t, []ruleCase{
		{name: "servicePoint missing", rec: rec(edit(t, d, sp, "-")), want: []string{"12 " + sp}},
		{name: "servicePoint empty object", rec: rec(edit(t, d, sp, "{}")), want: []string{"12 " + sp}},
		{name: "servicePoint with null ids", rec: rec(edit(t, d, sp, `{"id":null,"reference":null}`)), want: []string{"12 " + sp}},
		{name: "servicePoint with only an unknown member", rec: rec(edit(t, d, sp, `{"foo":"x"}`)), want: []string{"12 " + sp}},
		{name: "servicePoint id empty", rec: rec(edit(t, d, sp, `{"id":""}`)), want: []string{"14 " + sp + ".id"}},
		{name: "servicePoint id a number", rec: rec(edit(t, d, sp, `{"id":5}`)), want: []string{"14 " + sp + ".id"}},
		{name: "servicePoint id too long", rec: rec(edit(t, d, sp, `{"id":"`+strings.Repeat("1", 256)+`"}`)), want: []string{"14 " + sp + ".id"}},
		{name: "servicePoint a string", rec: rec(edit(t, d, sp, `"SP-1"`)), want: []string{"14 " + sp}},
		{name: "servicePoint unknown member", rec: rec(edit(t, d, sp, `{"id":"A","foo":"x"}`)), want: []string{"14 " + sp + ".foo"}},
		{name: "contacts missing", rec: rec(edit(t, d, "properties.contacts", "-")), want: []string{"12 properties.contacts"}},
		{name: "contacts empty object", rec: rec(edit(t, d, "properties.contacts", "{}")), want: []string{"12 " + pri}},
		{name: "contacts an array", rec: rec(edit(t, d, "properties.contacts", "[]")), want: []string{"14 properties.contacts"}},
		{name: "primary a string", rec: rec(edit(t, d, pri, `"Paul"`)), want: []string{"14 " + pri}},
		{name: "primary empty object misses every field", rec: rec(edit(t, d, pri, "{}")), want: []string{
			"12 " + pri + ".title", "12 " + pri + ".firstName", "12 " + pri + ".lastName",
			"12 " + pri + ".phone", "12 " + pri + ".mobile", "12 " + pri + ".email"}},
		{name: "title empty", rec: rec(edit(t, d, pri+".title", `""`)), want: []string{"14 " + pri + ".title"}},
		{name: "disconnect title any string", rec: rec(edit(t, d, pri+".title", `"Dr"`))},
		{name: "update title M is not in the list", rec: rec(edit(t, u, pri+".title", `"M"`)), want: []string{"14 " + pri + ".title"}},
		{name: "update title M.", rec: rec(edit(t, u, pri+".title", `"M."`))},
		{name: "firstName blank", rec: rec(edit(t, d, pri+".firstName", `" \t"`)), want: []string{"14 " + pri + ".firstName"}},
		{name: "lastName 256", rec: rec(edit(t, d, pri+".lastName", `"`+strings.Repeat("L", 256)+`"`)), want: []string{"14 " + pri + ".lastName"}},
		{name: "phone national format", rec: rec(edit(t, d, pri+".phone", `"0140000000"`)), want: []string{"14 " + pri + ".phone"}},
		{name: "phone first digit 0", rec: rec(edit(t, d, pri+".phone", `"+0140000000"`)), want: []string{"14 " + pri + ".phone"}},
		{name: "phone 7 digits", rec: rec(edit(t, d, pri+".phone", `"+3312345"`)), want: []string{"14 " + pri + ".phone"}},
		{name: "phone 8 digits", rec: rec(edit(t, d, pri+".phone", `"+33123456"`))},
		{name: "phone 15 digits", rec: rec(edit(t, d, pri+".phone", `"+331234567890123"`))},
		{name: "phone 16 digits", rec: rec(edit(t, d, pri+".phone", `"+3312345678901234"`)), want: []string{"14 " + pri + ".phone"}},
		{name: "phone with spaces", rec: rec(edit(t, d, pri+".phone", `"+33 1 40 00 00 00"`)), want: []string{"14 " + pri + ".phone"}},
		{name: "mobile a number", rec: rec(edit(t, d, pri+".mobile", `33600200200`)), want: []string{"14 " + pri + ".mobile"}},
		{name: "email with a display name", rec: rec(edit(t, d, pri+".email", `"Paul <paul@x.fr>"`)), want: []string{"14 " + pri + ".email"}},
		{name: "email without a domain dot", rec: rec(edit(t, d, pri+".email", `"paul@localhost"`)), want: []string{"14 " + pri + ".email"}},
		{name: "two emails", rec: rec(edit(t, d, pri+".email", `"a@x.fr, b@x.fr"`)), want: []string{"14 " + pri + ".email"}},
		{name: "email double at", rec: rec(edit(t, d, pri+".email", `"a@@x.fr"`)), want: []string{"14 " + pri + ".email"}},
		{name: "email dot before at", rec: rec(edit(t, d, pri+".email", `"a.@x.fr"`)), want: []string{"14 " + pri + ".email"}},
		{name: "email with plus and subdomain", rec: rec(edit(t, d, pri+".email", `"paul+bvpn@mail.example.co.uk"`))},
		{name: "secondary empty object is fine", rec: rec(edit(t, d, sec, `{}`))},
		{name: "secondary fields validated", rec: rec(edit(t, d, sec, `{"email":"bad","phone":"1"}`)),
			want: []string{"14 " + sec + ".phone", "14 " + sec + ".email"}},
		{name: "secondary title on update", rec: rec(edit(t, u, sec+".title", `"Dr"`)), want: []string{"14 " + sec + ".title"}},
		{name: "secondary a string", rec: rec(edit(t, d, sec, `"x"`)), want: []string{"14 " + sec}},
		{name: "secondary null is absent", rec: rec(edit(t, d, sec, `null`))},
		{name: "unknown member of primary", rec: rec(edit(t, d, pri+".nickname", `"P"`)), want: []string{"14 " + pri + ".nickname"}},
		{name: "contracts beside contacts", rec: rec(edit(t, d, "properties.contracts", `{}`)), want: []string{"14 properties.contracts"}},
		{name: "unknown member of contacts", rec: rec(edit(t, d, "properties.contacts.tertiary", `{}`)), want: []string{"14 properties.contacts.tertiary"}},
	})
}

func TestUpdateProfileAndOptions(t *testing.T) {
	u, d := updateBody, disconnectBody
	o := "properties.options"
	runRuleCases(t, []ruleCase{
		{name: "profile missing", rec: rec(edit(t, u, "properties.profile", "-")), want: []string{"12 properties.profile"}},
		{name: "profile not in the list", rec: rec(edit(t, u, "properties.profile", `"FDJ CONNECT"`)), want: []string{"14 properties.profile"}},
		{name: "every profile of the list", rec: rec(edit(t, u, "properties.profile", `"FDJ CONNECT OPTIMA 18M"`))},
		{name: "options missing", rec: rec(edit(t, u, o, "-")), want: []string{"12 " + o}},
		{name: "options empty misses each option", rec: rec(edit(t, u, o, "{}")), want: []string{
			"12 " + o + ".bandwidth", "12 " + o + ".wifi", "12 " + o + ".multicast", "12 " + o + ".quickstart",
			"12 " + o + ".ethernet", "12 " + o + ".internal_antenna", "12 " + o + ".external_antenna"}},
		{name: "options an array", rec: rec(edit(t, u, o, "[]")), want: []string{"14 " + o}},
		{name: "bandwidth not in the list", rec: rec(edit(t, u, o+".bandwidth", `"2M"`)), want: []string{"14 " + o + ".bandwidth"}},
		{name: "bandwidth Extended", rec: rec(edit(t, u, o+".bandwidth", `"Extended"`))},
		{name: "wifi empty", rec: rec(edit(t, u, o+".wifi", `""`)), want: []string{"14 " + o + ".wifi"}},
		{name: "wifi a number", rec: rec(edit(t, u, o+".wifi", `1`)), want: []string{"14 " + o + ".wifi"}},
		{name: "unknown option", rec: rec(edit(t, u, o+".colour", `"red"`)), want: []string{"14 " + o + ".colour"}},
		{name: "disconnect knows no profile", rec: rec(edit(t, d, "properties.profile", `"FDJ CONNECT FTTH"`)), want: []string{"14 properties.profile"}},
		{name: "disconnect knows no options, reported as a whole",
			rec: rec(edit(t, d, o, `{"bandwidth":"8M","zz":1}`)), want: []string{"14 " + o}},
	})
}

func TestViolationOrder(t *testing.T) {
	d := disconnectBody
	pri := "properties.contacts.primary"
	runRuleCases(t, []ruleCase{
		{name: "row 12 in section 2 order",
			rec: rec(edits(t, d, "properties.servicePoint", "-", pri, `{"email":"x@y.fr"}`, "requestedAt", "-")),
			want: []string{"12 requestedAt", "12 properties.servicePoint",
				"12 " + pri + ".title", "12 " + pri + ".firstName", "12 " + pri + ".lastName",
				"12 " + pri + ".phone", "12 " + pri + ".mobile"}},
		{name: "row 14: known fields in section 2 order, then unknown ones in document order",
			rec: rec(`{"type":"R_BVPN_FR_1","requestedAt":"2027-01-04","properties":{
				"zz":1,
				"contacts":{"secondary":{"email":"bad"},"primary":{"title":"M","firstName":"P","lastName":"L","phone":"1","mobile":"+33600200200","email":"p@x.fr","nick":"p"}},
				"profile":"FDJ CONNECT FTTH",
				"servicePoint":{"id":"","foo":2},
				"options":{"bandwidth":"8M"},
				"aa":1}}`),
			want: []string{"14 properties.servicePoint.id", "14 " + pri + ".phone", "14 properties.contacts.secondary.email",
				"14 properties.zz", "14 " + pri + ".nick", "14 properties.profile", "14 properties.servicePoint.foo",
				"14 properties.options", "14 properties.aa"}},
		{name: "row 15 across contacts and media",
			rec: rec(`{"contact":[
				{"contactName":"","partyRoleType":"OWNER","contactMedium":[{"mediumType":"Fax","characteristic":{"contactType":"x"}},
					{"mediumType":"Email","characteristic":{"contactType":"e","emailAddress":"nope"}}]},
				7,
				{"contactName":"B","partyRoleType":"X","contactMedium":[]}]}`, accountHeaders...),
			want: []string{"15 contact[0].contactName", "15 contact[0].contactMedium[0].mediumType",
				"15 contact[0].contactMedium[1].characteristic.emailAddress", "15 contact[1]", "15 contact[2].contactMedium"}},
	})
}

func TestAccountBody(t *testing.T) {
	a := accountBody
	h := accountHeaders
	m := "contact[0].contactMedium[0]"
	runRuleCases(t, []ruleCase{
		{name: "contact missing", rec: rec(`{"name":"x"}`, h...), want: []string{"12 contact"}},
		{name: "contact null", rec: rec(`{"contact":null}`, h...), want: []string{"12 contact"}},
		{name: "contact empty array", rec: rec(`{"contact":[]}`, h...), want: []string{"15 contact"}},
		{name: "contact an object", rec: rec(`{"contact":{}}`, h...), want: []string{"15 contact"}},
		{name: "contact element not an object", rec: rec(`{"contact":["x"]}`, h...), want: []string{"15 contact[0]"}},
		{name: "contact element empty", rec: rec(`{"contact":[{}]}`, h...),
			want: []string{"12 contact[0].contactName", "12 contact[0].partyRoleType", "12 contact[0].contactMedium"}},
		{name: "contactMedium empty", rec: rec(edit(t, a, "contact[0].contactMedium", `[]`), h...), want: []string{"15 contact[0].contactMedium"}},
		{name: "contactMedium an object", rec: rec(edit(t, a, "contact[0].contactMedium", `{}`), h...), want: []string{"15 contact[0].contactMedium"}},
		{name: "medium empty", rec: rec(edit(t, a, m, `{}`), h...), want: []string{"12 " + m + ".mediumType", "12 " + m + ".characteristic.contactType"}},
		{name: "telephone without number", rec: rec(edit(t, a, m, `{"mediumType":"Telephone","characteristic":{"contactType":"home"}}`), h...),
			want: []string{"12 " + m + ".characteristic.phoneNumber"}},
		{name: "telephone without characteristic", rec: rec(edit(t, a, m, `{"mediumType":"Mobile"}`), h...),
			want: []string{"12 " + m + ".characteristic.contactType", "12 " + m + ".characteristic.phoneNumber"}},
		{name: "email without address", rec: rec(edit(t, a, m, `{"mediumType":"Email","characteristic":{"contactType":"e"}}`), h...),
			want: []string{"12 " + m + ".characteristic.emailAddress"}},
		{name: "characteristic a string", rec: rec(edit(t, a, m+".characteristic", `"home"`), h...), want: []string{"15 " + m + ".characteristic"}},
		{name: "mediumType unknown", rec: rec(edit(t, a, m+".mediumType", `"Fax"`), h...), want: []string{"15 " + m + ".mediumType"}},
		{name: "mediumType case matters", rec: rec(edit(t, a, m+".mediumType", `"telephone"`), h...), want: []string{"15 " + m + ".mediumType"}},
		{name: "contactType empty", rec: rec(edit(t, a, m+".characteristic.contactType", `""`), h...), want: []string{"15 " + m + ".characteristic.contactType"}},
		{name: "phone 6 digits", rec: rec(edit(t, a, m+".characteristic.phoneNumber", `"123456"`), h...), want: []string{"15 " + m + ".characteristic.phoneNumber"}},
		{name: "phone 7 digits with plus", rec: rec(edit(t, a, m+".characteristic.phoneNumber", `"+1234567"`), h...)},
		{name: "phone 16 digits", rec: rec(edit(t, a, m+".characteristic.phoneNumber", `"1234567890123456"`), h...), want: []string{"15 " + m + ".characteristic.phoneNumber"}},
		{name: "phone a number", rec: rec(edit(t, a, m+".characteristic.phoneNumber", `12345678`), h...), want: []string{"15 " + m + ".characteristic.phoneNumber"}},
		{name: "bad e-mail", rec: rec(edit(t, a, "contact[0].contactMedium[2].characteristic.emailAddress", `"alain.delon"`), h...),
			want: []string{"15 contact[0].contactMedium[2].characteristic.emailAddress"}},
		{name: "contactName blank", rec: rec(edit(t, a, "contact[1].contactName", `" "`), h...), want: []string{"15 contact[1].contactName"}},
		{name: "other attributes of the account are let through", rec: rec(edits(t, a, "name", `"x"`, "paymentPlan", `[{"a":1}]`), h...)},
		{name: "unknown members inside contact, medium and characteristic are let through",
			rec: rec(edits(t, a, "contact[0].extra", `1`, m+".preferred", `true`, m+".characteristic.note", `"n"`), h...)},
		{name: "BVPN members in an account body are let through", rec: rec(edit(t, a, "properties", `"x"`), h...)},
	})
}

func TestRequestedAt(t *testing.T) {
	at := func(ts time.Time, requested string) *Record {
		r := rec(edit(t, disconnectBody, "requestedAt", `"`+requested+`"`))
		r.Time = ts
		return r
	}
	rejected := []string{"16 requestedAt"}
	// Thursday 17 December 2026 00:30 in Paris, still the 16th in UTC.
	lateUTC := time.Date(2026, 12, 16, 23, 30, 0, 0, time.UTC)
	runRuleCases(t, []ruleCase{
		{name: "19 days is too soon", rec: at(testNow, "2026-12-23"), want: rejected},
		{name: "20 days on a working day", rec: at(testNow, "2026-12-24")},
		{name: "Christmas", rec: at(testNow, "2026-12-25"), want: rejected},
		{name: "Saturday", rec: at(testNow, "2027-01-02"), want: rejected},
		{name: "Sunday", rec: at(testNow, "2027-01-03"), want: rejected},
		{name: "New Year", rec: at(testNow, "2027-01-01"), want: rejected},
		{name: "in the past", rec: at(testNow, "2022-06-01"), want: rejected},
		{name: "Ascension 2027", rec: at(testNow, "2027-05-06"), want: rejected},
		{name: "day after Ascension 2027", rec: at(testNow, "2027-05-07")},
		{name: "Whit Monday 2028", rec: at(testNow, "2028-06-05"), want: rejected},
		{name: "Good Friday 2027 is a working day in France", rec: at(testNow, "2027-03-26")},
		{name: "today is the Paris date: 19 days after 17 December", rec: at(lateUTC, "2027-01-05"), want: rejected},
		{name: "today is the Paris date: 20 days after 17 December", rec: at(lateUTC, "2027-01-06")},
		{name: "summer time: 22:30 UTC is the next day in Paris", rec: at(time.Date(2027, 6, 30, 22, 30, 0, 0, time.UTC), "2027-07-20"), want: rejected},
		{name: "summer time: 20 days after the Paris date", rec: at(time.Date(2027, 6, 30, 22, 30, 0, 0, time.UTC), "2027-07-21")},
		{name: "update requests have no date rule", rec: func() *Record {
			r := rec(edit(t, updateBody, "requestedAt", `"2026-12-05"`))
			return r
		}()},
	})
}

func TestRowsOneToThree(t *testing.T) {
	long := `{"type":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	runRuleCases(t, []ruleCase{
		{name: "empty value", rec: rec(""), want: []string{"1 "}},
		{name: "default limit", rec: rec(long), want: []string{"2 "}},
		{name: "limit is inclusive", rules: Rules{MaxBodyBytes: len(disconnectBody)}, rec: rec(disconnectBody)},
		{name: "invalid UTF-8", rec: rec("{\"type\":\"\xff\"}"), want: []string{"3 "}},
		{name: "not JSON", rec: rec("type=R_BVPN_FR_1"), want: []string{"3 "}},
		{name: "white space only", rec: rec("  \n"), want: []string{"3 "}},
		{name: "array", rec: rec(`[{"type":"R_BVPN_FR_1"}]`), want: []string{"3 "}},
		{name: "string", rec: rec(`"x"`), want: []string{"3 "}},
		{name: "null", rec: rec(`null`), want: []string{"3 "}},
		{name: "trailing data", rec: rec(disconnectBody + `{}`), want: []string{"3 "}},
		{name: "trailing NUL byte", rec: rec(disconnectBody + "\x00"), want: []string{"3 "}},
		{name: "leading NUL byte", rec: rec("\x00" + disconnectBody), want: []string{"3 "}},
		{name: "duplicated key deep inside", rec: rec(strings.Replace(disconnectBody, `"firstName": "Paul",`, `"firstName": "Paul", "firstName": "Pierre",`, 1)), want: []string{"3 "}},
		{name: "duplicated key through an escape", rec: rec(`{"type":"R_BVPN_FR_1","\u0074ype":"x"}`), want: []string{"3 "}},
		{name: "duplicated key in a let-through attribute", rec: rec(edit(t, accountBody, "extra", `{"a":1,"a":1}`), accountHeaders...), want: []string{"3 "}},
		{name: "lone surrogate", rec: rec(`{"type":"\ud800"}`), want: []string{"3 "}},
		{name: "escaped value is read unescaped", rec: rec(strings.Replace(disconnectBody, `"R_BVPN_FR_1"`, `"R_BVPN_FR\u005f1"`, 1))},
	})
}
