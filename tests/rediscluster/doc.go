// Package rediscluster runs ordergate against Redis beyond one node, on real redis-server
// processes the tests start on spare loopback ports and kill when they end: a Redis Cluster
// of three primaries with a replica each (made by `redis-cli --cluster create`), and a
// primary with one replica under three sentinels (`redis-server sentinel.conf --sentinel`).
// Each scenario runs the worker under a steady load of requests that need resolution, plays
// one fault (a primary killed and brought back, a slot range migrated while reading, the
// whole cluster down for 10 s), and ends with the invariant checker reading the topics: no
// record without its event, no wrong rejection, duplicates with their first eventId. The
// SCENARIO lines of the test log are the table of docs/reliability.md.
package rediscluster
