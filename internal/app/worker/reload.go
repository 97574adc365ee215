package worker

import (
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// Reload reads the clients file and the inventory file again (secret rotation, inventory
// updates), as `ordergate run` does on SIGHUP. A file that cannot be read or parsed keeps
// the previous content in force, and the error says why; the other file is still reloaded.
// Answers already cached in Redis keep their TTL.
func (w *Worker) Reload() error {
	var firstErr error
	if path := w.cfg.ClientsFile; path != "" {
		clients, err := LoadClients(path)
		if err != nil {
			w.log.Error("reload: clients file kept as it was", "err", err)
			firstErr = err
		} else {
			rules := *w.proc.Rules()
			rules.Clients = clients
			w.proc.SetRules(&rules)
			w.log.Info("reload: clients file read again", "file", path, "clients", clients.Len())
		}
	}
	if path := w.cfg.InventoryFile; path != "" {
		if fi, ok := w.inv.(*servicepoint.FileInventory); ok {
			next, err := servicepoint.LoadFileInventory(path)
			if err != nil {
				w.log.Error("reload: inventory file kept as it was", "err", err)
				if firstErr == nil {
					firstErr = err
				}
			} else {
				fi.Replace(next)
				w.log.Info("reload: inventory file read again", "file", path, "service_points", next.Len())
			}
		}
	}
	return firstErr
}

// Rules returns the rules in force (the clients table included).
func (w *Worker) Rules() *order.Rules { return w.proc.Rules() }
