package security

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ordergate/ordergate/internal/app/testkit"
)

// workerACLs are the Kafka ACLs the worker needs, and no more (docs/security.md): Read on
// the input topic and on its consumer group (Read implies Describe), Write on the three
// output topics, and DescribeConfigs on them (to read max.message.bytes).
func workerACLs(group string) []kfake.ACL {
	acl := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	acls := []kfake.ACL{
		acl(kmsg.ACLResourceTypeTopic, testkit.Topics.Requests, kmsg.ACLOperationRead),
		acl(kmsg.ACLResourceTypeGroup, group, kmsg.ACLOperationRead),
	}
	for _, topic := range []string{testkit.Topics.Accepted, testkit.Topics.Rejected, testkit.Topics.DLQ} {
		acls = append(acls, acl(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationWrite),
			acl(kmsg.ACLResourceTypeTopic, topic, kmsg.ACLOperationDescribeConfigs))
	}
	return acls
}

// TestKafkaLeastPrivilege runs the worker as a SCRAM user that holds only workerACLs on a
// broker that checks ACLs: every request is decided and published, and the worker reads
// the output topics' max.message.bytes (no warning that it assumes Kafka's default). The
// test's own clients are a superuser.
func TestKafkaLeastPrivilege(t *testing.T) {
	const mech, admin, adminPassword = "SCRAM-SHA-256", "admin", "admin-CANARY-0c9d"
	group := "ordergate-test"
	a := access{SASL: mechanism(t, mech, admin, adminPassword)}
	c := newCluster(t, nil, a, kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(mech, admin, adminPassword),
		kfake.User(mech, saslUser, saslPassword, workerACLs(group)...))
	cfg := transportConfig(t, c)
	cfg.KafkaGroupID = group
	cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword = mech, saslUser, saslPassword
	cfg.LogLevel = "info"

	recs := threeTypes(t)
	produce(t, c, a, recs...)
	p := testkit.StartProcess(t, processEnv(t, cfg), "run")
	c.WaitEvents(t, len(recs), time.Minute)
	got := outcomes(t, c, a)
	for i := range recs {
		if got[int64(i)] != "accepted" {
			t.Errorf("input %d: %q, want accepted", i, got[int64(i)])
		}
	}
	waitCommitted(t, c, group, int64(len(recs)))
	stop(t, p)
	if strings.Contains(p.Logs(), "cannot read max.message.bytes") {
		t.Errorf("the worker could not read the output topics' limit with DescribeConfigs:\n%s", p.Logs())
	}
	noLeak(t, "worker output", []byte(p.Logs()), secrets)
}

// waitCommitted waits until the group committed offset n of the input's partition 0.
func waitCommitted(t *testing.T, c *testkit.Cluster, group string, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); c.Committed(t, group)[0] != n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("committed %v, want offset %d", c.Committed(t, group), n)
		}
	}
}
