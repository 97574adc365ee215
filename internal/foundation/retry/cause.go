package retry

// The causes of transient failures, a small fixed set: each is the `cause` label of
// ordergate_retries_total (and, for the two publish causes, of
// ordergate_publish_failures_total) and the `cause` of the retry log lines. Causes lists
// them with what each means; docs/operations.md lists the same labels (a test checks it).
const (
	// CauseRedis: Redis did not answer the batch's read (refused, timed out, error reply).
	CauseRedis = "redis"
	// CauseInventoryTimeout: the inventory did not answer within its timeout, or the
	// caller gave up waiting for it.
	CauseInventoryTimeout = "inventory_timeout"
	// CauseInventoryUnavailable: the inventory could not be reached (refused, reset, DNS).
	CauseInventoryUnavailable = "inventory_unavailable"
	// CauseInventoryStatus: the inventory answered a status other than 200 and 404.
	CauseInventoryStatus = "inventory_status"
	// CauseInventoryBody: the inventory answered a body that is not a JSON array of
	// service points.
	CauseInventoryBody = "inventory_body"
	// CauseKafkaFetch: a fetch from the input topic failed.
	CauseKafkaFetch = "kafka_fetch"
	// CauseKafkaProduce: the broker did not acknowledge events.
	CauseKafkaProduce = "kafka_produce"
	// CauseKafkaRefused: the dead-letter topic refused a dead-letter record itself.
	CauseKafkaRefused = "kafka_refused"
	// CauseKafkaCommit: an offset commit failed.
	CauseKafkaCommit = "kafka_commit"
	// CauseOther: an error that carries no cause.
	CauseOther = "other"
)

// Cause is one entry of the catalog, as franz-go's kerr lists Kafka's error codes: the
// label, what failed, and where it is counted.
type Cause struct {
	// Label is the metric label and the log value.
	Label string
	// Meaning says what failed, for people reading a dashboard or a log.
	Meaning string
	// Publish reports that the cause also labels ordergate_publish_failures_total.
	Publish bool
}

// Causes is the catalog: every cause a retry or a failed publish can carry. Metrics
// pre-declare their label values from it, so that rate() sees the first failure.
var Causes = []Cause{
	{Label: CauseRedis, Meaning: "Redis did not answer the batch's read"},
	{Label: CauseInventoryTimeout, Meaning: "the inventory did not answer within its timeout"},
	{Label: CauseInventoryUnavailable, Meaning: "the inventory could not be reached"},
	{Label: CauseInventoryStatus, Meaning: "the inventory answered a status other than 200 and 404"},
	{Label: CauseInventoryBody, Meaning: "the inventory answered a body that is not a list of service points"},
	{Label: CauseKafkaFetch, Meaning: "a fetch from the input topic failed"},
	{Label: CauseKafkaProduce, Meaning: "the broker did not acknowledge events", Publish: true},
	{Label: CauseKafkaRefused, Meaning: "the dead-letter topic refused a dead-letter record itself", Publish: true},
	{Label: CauseKafkaCommit, Meaning: "an offset commit failed"},
	{Label: CauseOther, Meaning: "an error without a cause: read the log"},
}
