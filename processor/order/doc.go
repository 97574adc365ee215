// Package order is ordergate's domain: the input Record, the contract's decision table and
// the rules that apply it (contract sections 1 to 5).
//
// Rules.Decide parses a record once (a single pass of a strict JSON scanner over the value,
// the headers read by name without regard to case) and applies rows 1 to 16 in order; the first row that finds a violation decides, with every
// violation of that row. A BVPN request that passes them all waits for its service point:
// the Decision carries the Lookup to answer, and Decision.Resolve applies rows 17 to 19 to
// the matches. The catalog (Catalog, EntryOf) holds each row's status, code, message and
// description template; events and docs read it, never a copy.
//
// The package is pure: no I/O, no clock. "Today" of the date rules is the record's Time as
// a date in Paris (package workday holds the French working-day calendar, package country
// the ISO 3166-1 codes), so a record gives the same decision whenever it is replayed. It is
// the lowest package of the processor: package event builds events from its decisions,
// package processor resolves lookups, and nothing here imports them.
package order
