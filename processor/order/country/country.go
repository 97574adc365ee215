// Package country checks ISO 3166-1 alpha-2 country codes, as the businessId header of the
// account request requires (contract, sections 2 and 3). It is pure and safe for concurrent
// use; the check is a table look-up that does not allocate.
package country

import "golang.org/x/text/language"

// AssignedCount is the number of officially assigned ISO 3166-1 alpha-2 codes, which is the
// number of codes IsAssignedAlpha2 accepts.
const AssignedCount = 249

// IsAssignedAlpha2 reports whether s is an officially assigned ISO 3166-1 alpha-2 code, written
// as two upper-case ASCII letters: "FR", "GB", "PA" are; "fr", "Pa", "FRA", "UK" (reserved for
// GB), "EU" (exceptionally reserved), "YU" (withdrawn), "XK" and "ZZ" (user-assigned) are not.
func IsAssignedAlpha2(s string) bool {
	if len(s) != 2 {
		return false
	}
	a, b := s[0]-'A', s[1]-'A' // bytes below 'A' wrap around to large values
	return a < 26 && b < 26 && assigned[a][b]
}

// notAssigned lists the codes that golang.org/x/text/language (CLDR data) reports as countries
// in their canonical form although ISO 3166/MA does not assign them. Codes that x/text already
// refuses (not a country, private use, or canonicalized to another code, such as UK, EU, FX,
// BU, TP, ZR, XK) are listed too, so that this list stays the full record of reserved codes.
var notAssigned = [...]string{
	// Exceptionally reserved by ISO 3166/MA.
	"AC", // Ascension Island (ITU)
	"CP", // Clipperton Island (ITU)
	"CQ", // Sark (reserved in 2020 at the request of the UPU)
	"DG", // Diego Garcia (ITU)
	"EA", // Ceuta, Melilla (WCO)
	"EU", // European Union
	"EZ", // Eurozone
	"FX", // France, Metropolitan
	"IC", // Canary Islands (WCO)
	"SU", // USSR
	"TA", // Tristan da Cunha (UPU)
	"UK", // United Kingdom (GB is assigned)
	"UN", // United Nations
	// Transitionally reserved: withdrawn codes.
	"AN", // Netherlands Antilles
	"BU", // Burma
	"CS", // Serbia and Montenegro; earlier Czechoslovakia
	"FQ", // French Southern and Antarctic Territories (now TF and AQ)
	"NT", // Neutral Zone
	"PC", // Pacific Islands, Trust Territory of the
	"TP", // East Timor
	"YU", // Yugoslavia
	"ZR", // Zaire
}

// assigned[a][b] reports whether the code of letters 'A'+a, 'A'+b is assigned. It is written
// once, during package initialization, and only read afterwards.
var assigned = buildAssigned()

// buildAssigned keeps, of AA..ZZ, the codes that x/text knows as a country region, not for
// private use, and canonical (UK canonicalizes to GB, and is refused), then removes notAssigned.
// TestAssignedCodes pins the result to the 249 codes of ISO 3166-1.
func buildAssigned() (t [26][26]bool) {
	var code [2]byte
	for a := range byte(26) {
		for b := range byte(26) {
			code[0], code[1] = 'A'+a, 'A'+b
			s := string(code[:])
			r, err := language.ParseRegion(s)
			t[a][b] = err == nil && r.IsCountry() && !r.IsPrivateUse() && r.Canonicalize().String() == s
		}
	}
	for _, s := range notAssigned {
		t[s[0]-'A'][s[1]-'A'] = false
	}
	return t
}
