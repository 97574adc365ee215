package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	flags := []string{"inventory", "clients", "pretty", "at", "key", "H"}
	topics := []string{"orders.requests", "orders.accepted", "orders.rejected", "orders.dlq", "__consumer_offsets"}
	tests := []struct {
		word       string
		candidates []string
		want       string
	}{
		{"inventroy", flags, "inventory"},
		{"Pretty", flags, "pretty"},
		{"client", flags, "clients"},
		{"verbose", flags, ""},
		{"orders.requets", topics, "orders.requests"},
		{"orders.dql", topics, "orders.dlq"},
		{"payments", topics, ""},
		{"", topics, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"abc", "acb", 1}, // a swap counts once
		{"CACHE_TLL", "CACHE_TTL", 1},
		{"LOGLEVEL", "LOG_LEVEL", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
