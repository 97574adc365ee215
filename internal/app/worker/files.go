package worker

import (
	"fmt"
	"os"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// LoadClients reads and parses a clients file; the error names the file.
func LoadClients(path string) (*order.Clients, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ORDERGATE_CLIENTS_FILE: %w", err)
	}
	c, err := order.ParseClients(data)
	if err != nil {
		return nil, fmt.Errorf("ORDERGATE_CLIENTS_FILE=%s: %w", path, err)
	}
	return c, nil
}

// newInventory returns the inventory the configuration names.
func newInventory(cfg config.Config) (servicepoint.Inventory, error) {
	if cfg.InventoryFile != "" {
		inv, err := servicepoint.LoadFileInventory(cfg.InventoryFile)
		if err != nil {
			return nil, fmt.Errorf("ORDERGATE_INVENTORY_FILE: %w", err)
		}
		return inv, nil
	}
	if cfg.InventoryURL == "" {
		return nil, fmt.Errorf("ORDERGATE_INVENTORY_URL or ORDERGATE_INVENTORY_FILE must be set")
	}
	// nil: the inventory's own client, which keeps enough idle connections for
	// ORDERGATE_INVENTORY_CONCURRENCY calls at once.
	return servicepoint.NewHTTPInventory(cfg.InventoryURL, string(cfg.InventoryToken), cfg.InventoryTimeout, nil), nil
}
