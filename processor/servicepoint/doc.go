// Package servicepoint resolves the service points that requests name (contract section
// 4). The inventory is the source of truth (HTTPInventory, the "Core Information API", or
// FileInventory, a JSON file standing in for it) and Redis is its cache, always in the
// path, whichever inventory is configured.
//
// A Resolver answers a batch of lookups with the list of matches of each (the resolution
// rule itself, most specific identifier, agreement, one, several or none, belongs to
// package order). A batch costs:
//
//   - one Redis round trip to read every distinct key of the batch (MGET);
//   - for the keys Redis lacks, one inventory call per key, at most Options.Concurrency at
//     once, shared with every concurrent batch waiting for the same key (singleflight);
//   - one round trip to write the answers back (a pipeline of SET with EX: the positive TTL
//     for a list of matches, the negative TTL for an empty list).
//
// Keys are {prefix}sp:{criterion}:{value} (see Key for why values need no escaping) and
// values the JSON array of matches ("[]" for none).
//
// Failures are typed: a *TransientError with one cause of the catalog of package retry for
// Redis and inventory failures, which the caller retries and counts by cause, and which
// never turns into an empty answer. A corrupt cache entry is a miss, answered by the
// inventory and overwritten. Measurements go to an Observer (no metrics library here) and
// to the counters of Resolver.Stats.
package servicepoint
