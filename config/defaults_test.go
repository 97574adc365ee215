package config

import (
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/consumer"
	"github.com/ordergate/ordergate/internal/foundation/retry"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// TestDefaultsAreStatedOnce ties each default to one statement. The default tag of Config
// is the default of the variable; docs/configuration.md shows the same value (see
// TestDocsReferenceMatchesConfig). The packages that apply a default of their own when
// given zero (consumer, retry, servicepoint, order) name it with a constant, which must
// be the tag's value, so that a worker built without the configuration behaves as
// `ordergate run`. Comments and desc tags name no default value: they would drift.
func TestDefaultsAreStatedOnce(t *testing.T) {
	cfg, _, err := loadWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		variable      string
		tag, constant any
	}{
		{"ORDERGATE_BATCH_MAX_RECORDS", cfg.BatchMaxRecords, consumer.DefaultBatchMaxRecords},
		{"ORDERGATE_BATCH_MAX_WAIT", cfg.BatchMaxWait, consumer.DefaultBatchMaxWait},
		{"ORDERGATE_RETRY_MAX_BACKOFF", cfg.RetryMaxBackoff, retry.DefaultMax},
		{"ORDERGATE_CACHE_TTL", cfg.CacheTTL, servicepoint.DefaultTTL},
		{"ORDERGATE_CACHE_NEGATIVE_TTL", cfg.CacheNegativeTTL, servicepoint.DefaultNegativeTTL},
		{"ORDERGATE_INVENTORY_CONCURRENCY", cfg.InventoryConcurrency, servicepoint.DefaultConcurrency},
		{"ORDERGATE_INVENTORY_TIMEOUT", cfg.InventoryTimeout, servicepoint.DefaultInventoryTimeout},
		{"ORDERGATE_MAX_MESSAGE_BYTES", cfg.MaxMessageBytes, order.DefaultMaxBodyBytes},
	} {
		if c.tag != c.constant {
			t.Errorf("%s: the default tag gives %v, the package constant %v", c.variable, c.tag, c.constant)
		}
	}

	for _, v := range variables {
		if strings.Contains(strings.ToLower(v.desc), "default") {
			t.Errorf("%s: the desc tag states a default: %q", v.name, v.desc)
		}
	}
	// A comment may name a Default constant, never a value.
	value := regexp.MustCompile(`(?i)\bdefault\b[:\s]+("|\[|-?[0-9]|unset|true|false)`)
	for _, file := range []string{"config.go", "../consumer/consumer.go", "../internal/foundation/retry/retry.go",
		"../processor/servicepoint/options.go", "../processor/order/rules.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Comments {
			for _, c := range g.List {
				if m := value.FindString(c.Text); m != "" {
					t.Errorf("%s: a comment states a default value (%q): %s", file, m, c.Text)
				}
			}
		}
	}
}
