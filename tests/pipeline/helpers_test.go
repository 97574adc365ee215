package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ordergate/ordergate/processor/order"
)

// writeInventory writes an inventory file of n French service points for a worker process.
func writeInventory(t *testing.T, n int) string {
	t.Helper()
	list := make([]order.ServicePoint, n)
	for i := range list {
		list[i] = order.ServicePoint{ID: fmt.Sprintf("SP-%d", i), Reference: fmt.Sprintf("REF-%d", i),
			CustomerReference: fmt.Sprintf("CR-%d", i), Name: "site", Market: "FR", State: "OPERATIONAL"}
	}
	data, _ := json.Marshal(list)
	path := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
