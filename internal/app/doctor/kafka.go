package doctor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/publisher"
)

// eventOverhead is about what an event adds to the request it embeds (ids, times, source,
// errors): an output topic that takes less than the largest request plus this cuts the
// requests of the largest events (requestTruncated).
const eventOverhead = 16 << 10

// topicRole is one of the four topics of the configuration.
type topicRole struct {
	variable string // ORDERGATE_TOPIC_...
	name     string
	output   bool
}

// topicInfo is what the broker says of a topic.
type topicInfo struct {
	partitions int
	replicas   int // of partition 0
	configs    map[string]string
}

// checkKafka checks the brokers, the topics and the ACLs.
func checkKafka(ctx context.Context, r *Report, o Options) {
	cfg := o.Config
	kafkaVars := []string{"ORDERGATE_KAFKA_BROKERS", "ORDERGATE_KAFKA_SASL_MECHANISM", "ORDERGATE_KAFKA_SASL_USERNAME",
		"ORDERGATE_KAFKA_SASL_PASSWORD", "ORDERGATE_KAFKA_TLS_ENABLED", "ORDERGATE_KAFKA_TLS_CA_FILE",
		"ORDERGATE_KAFKA_TLS_CERT_FILE", "ORDERGATE_KAFKA_TLS_KEY_FILE"}
	if o.blocked(kafkaVars...) || o.Client == nil {
		r.add("kafka", Error, "not checked: the Kafka settings are not valid (see the config findings)", "")
		return
	}
	if !checkBrokers(ctx, r, o) {
		return
	}
	roles := []topicRole{
		{"ORDERGATE_TOPIC_REQUESTS", cfg.TopicRequests, false},
		{"ORDERGATE_TOPIC_ACCEPTED", cfg.TopicAccepted, true},
		{"ORDERGATE_TOPIC_REJECTED", cfg.TopicRejected, true},
		{"ORDERGATE_TOPIC_DLQ", cfg.TopicDLQ, true},
	}
	if o.blocked("ORDERGATE_TOPIC_REQUESTS", "ORDERGATE_TOPIC_ACCEPTED", "ORDERGATE_TOPIC_REJECTED", "ORDERGATE_TOPIC_DLQ") {
		r.add("kafka.topics", Error, "not checked: a topic name is not valid (see the config findings)", "")
		return
	}
	topics := checkTopicsExist(ctx, r, o, roles)
	checkTopicConfigs(ctx, r, o, roles, topics)
	checkACLs(ctx, r, o)
}

// checkBrokers connects to each broker with the configuration's TLS and SASL.
func checkBrokers(ctx context.Context, r *Report, o Options) bool {
	reachable := 0
	for _, b := range o.Config.KafkaBrokers {
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		conn, err := o.Dialer.DialContext(cctx, "tcp", b)
		cancel()
		if err != nil {
			msg := fmt.Sprintf("broker %s: %s", b, o.scrub(err))
			fix := "check ORDERGATE_KAFKA_BROKERS, the network, and ORDERGATE_KAFKA_TLS_ENABLED (a TLS listener answers nothing in clear text)"
			if isAuthError(err) {
				fix = "check ORDERGATE_KAFKA_SASL_MECHANISM, ORDERGATE_KAFKA_SASL_USERNAME and ORDERGATE_KAFKA_SASL_PASSWORD"
			}
			r.add("kafka.brokers", Error, msg, fix)
			continue
		}
		conn.Close()
		reachable++
	}
	if reachable == 0 {
		return false
	}
	how := "in clear text"
	if o.Config.KafkaTLSEnabled {
		how = "with TLS"
	}
	if o.Config.KafkaSASLMechanism != "" {
		how += ", SASL " + o.Config.KafkaSASLMechanism + " as " + o.Config.KafkaSASLUsername
	}
	r.ok("kafka.brokers", "%d of %d brokers answer (%s)", reachable, len(o.Config.KafkaBrokers), how)
	return true
}

func isAuthError(err error) bool {
	for _, e := range []error{kafka.SASLAuthenticationFailed, kafka.IllegalSASLState, kafka.UnsupportedSASLMechanism,
		kafka.TopicAuthorizationFailed, kafka.ClusterAuthorizationFailed, kafka.GroupAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkTopicsExist asks for the four topics and returns what the broker says of those that
// exist.
func checkTopicsExist(ctx context.Context, r *Report, o Options, roles []topicRole) map[string]topicInfo {
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	names := make([]string, len(roles))
	for i, t := range roles {
		names[i] = t.name
	}
	meta, err := o.Client.Metadata(cctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		r.add("kafka.topics", Error, "cannot read the topics' metadata: "+o.scrub(err), "check the user's Describe right on the topics")
		return nil
	}
	found := map[string]topicInfo{}
	for _, t := range meta.Topics {
		if t.Error == nil && len(t.Partitions) > 0 {
			found[t.Name] = topicInfo{partitions: len(t.Partitions), replicas: len(t.Partitions[0].Replicas)}
		}
	}
	var existing []string
	if all, err := o.Client.Metadata(cctx, &kafka.MetadataRequest{}); err == nil {
		for _, t := range all.Topics {
			if t.Error == nil {
				existing = append(existing, t.Name)
			}
		}
	}
	for _, t := range roles {
		info, ok := found[t.name]
		if !ok {
			msg := fmt.Sprintf("topic %q (%s) does not exist", t.name, t.variable)
			if s := config.Closest(t.name, existing); s != "" && s != t.name {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			r.add("kafka.topics", Error, msg, "create it (docs/deploy.md#topics) or correct "+t.variable)
			continue
		}
		r.ok("kafka.topics", "topic %q (%s): partitions %d, replicas %d", t.name, t.variable, info.partitions, info.replicas)
	}
	return found
}

// checkTopicConfigs compares the topics' partitions and settings with what the worker
// needs.
func checkTopicConfigs(ctx context.Context, r *Report, o Options, roles []topicRole, topics map[string]topicInfo) {
	cfg := o.Config
	in, ok := topics[cfg.TopicRequests]
	if !ok {
		return
	}
	for _, t := range roles[1:3] { // accepted and rejected: the events keyed like their inputs
		if out, ok := topics[t.name]; ok && out.partitions != in.partitions {
			r.add("kafka.partitions", Warning,
				fmt.Sprintf("topic %q has %d partitions, the input %q has %d", t.name, out.partitions, cfg.TopicRequests, in.partitions),
				"give the output topics as many partitions as the input, so that the events of a key land as their requests did (per-key order downstream)")
		}
	}
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range roles {
		if _, ok := topics[t.name]; ok {
			req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: t.name,
				ConfigNames: []string{"max.message.bytes", "min.insync.replicas", "message.timestamp.type"}})
		}
	}
	resp, err := o.Client.DescribeConfigs(cctx, req)
	if err != nil {
		r.add("kafka.configs", Warning, "cannot read the topics' settings: "+o.scrub(err),
			"grant DescribeConfigs on the output topics (docs/security.md); without it the worker assumes max.message.bytes is Kafka's default")
		return
	}
	for _, res := range resp.Resources {
		if res.Error != nil {
			r.add("kafka.configs", Warning, fmt.Sprintf("cannot read the settings of %q: %s", res.ResourceName, o.scrub(res.Error)),
				"grant DescribeConfigs on it (docs/security.md)")
			continue
		}
		info := topics[res.ResourceName]
		info.configs = map[string]string{}
		for _, e := range res.ConfigEntries {
			info.configs[e.ConfigName] = e.ConfigValue
		}
		topics[res.ResourceName] = info
	}
	checkLimits(r, o, roles, topics)
	for _, t := range roles[1:] {
		checkReplicas(r, t, topics[t.name])
	}
	if ts := topics[cfg.TopicRequests].configs["message.timestamp.type"]; ts != "" && ts != "LogAppendTime" {
		r.add("kafka.timestamps", Warning,
			fmt.Sprintf("the input topic %q has message.timestamp.type=%s: an upstream clock sets \"today\" of the date rules", cfg.TopicRequests, ts),
			"set message.timestamp.type=LogAppendTime on it (kafka-configs --alter --add-config message.timestamp.type=LogAppendTime)")
	} else if ts == "LogAppendTime" {
		r.ok("kafka.timestamps", "the input topic stamps records at append time (LogAppendTime)")
	}
}

// checkLimits compares max.message.bytes: events must fit the output topics, and a dead
// letter (the input unchanged) must fit the DLQ.
func checkLimits(r *Report, o Options, roles []topicRole, topics map[string]topicInfo) {
	cfg := o.Config
	limit := func(topic string) int {
		n, _ := strconv.Atoi(topics[topic].configs["max.message.bytes"])
		return n
	}
	input := limit(cfg.TopicRequests)
	largest := cfg.MaxMessageBytes // the largest request decided
	if input > 0 {
		largest = min(largest, input)
	}
	fine := true
	for _, t := range roles[1:3] {
		if n := limit(t.name); n > 0 && n-publisher.BatchMargin < largest+eventOverhead {
			fine = false
			r.add("kafka.limits", Warning,
				fmt.Sprintf("topic %q takes records up to %d bytes (max.message.bytes), less than an event embedding a request of %d bytes needs (about %d)",
					t.name, n, largest, largest+eventOverhead),
				fmt.Sprintf("raise its max.message.bytes to at least %d, or lower ORDERGATE_MAX_MESSAGE_BYTES; until then large requests are published cut to 4 KiB (requestTruncated)", largest+eventOverhead+publisher.BatchMargin))
		}
	}
	if dlq := limit(cfg.TopicDLQ); dlq > 0 && input > 0 && dlq < input {
		fine = false
		r.add("kafka.limits", Warning,
			fmt.Sprintf("the dead-letter topic %q takes records up to %d bytes, less than the input topic (%d): a dead letter can be refused, which stops its partition", cfg.TopicDLQ, dlq, input),
			fmt.Sprintf("raise its max.message.bytes to at least %d", input))
	}
	if fine && input > 0 {
		r.ok("kafka.limits", "the output topics take the largest event, the dead-letter topic the largest input")
	}
}

// checkReplicas compares min.insync.replicas with the replicas of an output topic (the
// worker produces with acks=all).
func checkReplicas(r *Report, t topicRole, info topicInfo) {
	minISR, err := strconv.Atoi(info.configs["min.insync.replicas"])
	if err != nil || info.replicas == 0 {
		return
	}
	switch {
	case minISR > info.replicas:
		r.add("kafka.replicas", Error,
			fmt.Sprintf("topic %q has %d replicas and min.insync.replicas=%d: every produce with acks=all fails (NOT_ENOUGH_REPLICAS) and the worker retries for ever", t.name, info.replicas, minISR),
			"lower its min.insync.replicas, or add replicas")
	case info.replicas == 1:
		r.add("kafka.replicas", Warning, fmt.Sprintf("topic %q has one replica: losing that broker loses its events", t.name),
			"use 3 replicas and min.insync.replicas=2 in production")
	case minISR < 2:
		r.add("kafka.replicas", Warning,
			fmt.Sprintf("topic %q has min.insync.replicas=%d: acks=all is acknowledged by one replica only", t.name, minISR),
			"set min.insync.replicas=2 (with 3 replicas)")
	default:
		r.ok("kafka.replicas", "topic %q: %d replicas, min.insync.replicas=%d", t.name, info.replicas, minISR)
	}
}

// checkACLs compares the ACLs the broker lists with what the worker's principal needs
// (docs/security.md): Read on the input topic and on the group, Write and DescribeConfigs
// on the output topics.
func checkACLs(ctx context.Context, r *Report, o Options) {
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	resp, err := o.Client.DescribeACLs(cctx, &kafka.DescribeACLsRequest{Filter: kafka.ACLFilter{
		ResourceTypeFilter: kafka.ResourceTypeAny, ResourcePatternTypeFilter: kafka.PatternTypeAny,
		Operation: kafka.ACLOperationTypeAny, PermissionType: kafka.ACLPermissionTypeAny,
	}})
	if err == nil && resp.Error != nil {
		err = resp.Error
	}
	if err != nil {
		r.ok("kafka.acls", "not listed (the broker does not answer DescribeAcls to this user: %s); the checks above ran with its rights", o.scrub(err))
		return
	}
	if len(resp.Resources) == 0 {
		r.ok("kafka.acls", "the broker lists no ACL (it does not check them, or lets everyone through when none is found)")
		return
	}
	cfg := o.Config
	principal := "User:ANONYMOUS"
	if cfg.KafkaSASLUsername != "" {
		principal = "User:" + cfg.KafkaSASLUsername
	}
	type need struct {
		res  kafka.ResourceType
		name string
		op   kafka.ACLOperationType
	}
	needs := []need{{kafka.ResourceTypeTopic, cfg.TopicRequests, kafka.ACLOperationTypeRead}, {kafka.ResourceTypeGroup, cfg.KafkaGroupID, kafka.ACLOperationTypeRead}}
	for _, t := range []string{cfg.TopicAccepted, cfg.TopicRejected, cfg.TopicDLQ} {
		needs = append(needs, need{kafka.ResourceTypeTopic, t, kafka.ACLOperationTypeWrite}, need{kafka.ResourceTypeTopic, t, kafka.ACLOperationTypeDescribeConfigs})
	}
	missing := 0
	for _, n := range needs {
		if !allowed(resp.Resources, principal, n.res, n.name, n.op) {
			missing++
			kind := "--topic"
			if n.res == kafka.ResourceTypeGroup {
				kind = "--group"
			}
			r.add("kafka.acls", Error, fmt.Sprintf("%s may not %s %s %q", principal, opName(n.op), resName(n.res), n.name),
				fmt.Sprintf("kafka-acls --add --allow-principal %s --operation %s %s %s", principal, opName(n.op), kind, n.name))
		}
	}
	if missing == 0 {
		r.ok("kafka.acls", "%s holds every ACL the worker needs", principal)
	}
}

// allowed evaluates Kafka's rule: some ALLOW binding matches and no DENY binding does.
// A binding matches the principal or User:*, the operation or All, and the resource by
// literal name, "*" or prefix.
func allowed(resources []kafka.ACLResource, principal string, typ kafka.ResourceType, name string, op kafka.ACLOperationType) bool {
	allow := false
	for _, res := range resources {
		if res.ResourceType != typ || !nameMatches(res, name) {
			continue
		}
		for _, a := range res.ACLs {
			if a.Principal != principal && a.Principal != "User:*" {
				continue
			}
			if a.Operation != op && a.Operation != kafka.ACLOperationTypeAll {
				continue
			}
			switch a.PermissionType {
			case kafka.ACLPermissionTypeDeny:
				return false
			case kafka.ACLPermissionTypeAllow:
				allow = true
			}
		}
	}
	return allow
}

func nameMatches(res kafka.ACLResource, name string) bool {
	switch res.PatternType {
	case kafka.PatternTypePrefixed:
		return strings.HasPrefix(name, res.ResourceName)
	default:
		return res.ResourceName == name || res.ResourceName == "*"
	}
}

func opName(op kafka.ACLOperationType) string {
	names := map[kafka.ACLOperationType]string{kafka.ACLOperationTypeRead: "Read", kafka.ACLOperationTypeWrite: "Write",
		kafka.ACLOperationTypeDescribeConfigs: "DescribeConfigs"}
	return names[op]
}

func resName(t kafka.ResourceType) string {
	if t == kafka.ResourceTypeGroup {
		return "group"
	}
	return "topic"
}
