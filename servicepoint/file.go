package servicepoint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/ordergate/ordergate/order"
)

// FileInventory is an inventory read from a JSON file: an array of service points
// {"id", "reference", "customerReference", "name", "market", "state"}. It stands in for the
// inventory service in the dev mode, tests and small installations, behind the same Redis
// cache. Replace swaps its content atomically (reload on SIGHUP).
type FileInventory struct {
	index atomic.Pointer[fileIndex]
}

type fileIndex struct {
	by  map[order.Criterion]map[string][]order.ServicePoint
	len int
}

// validStates are the states a service point may be in.
var validStates = map[string]bool{"INSTALLING": true, "OPERATIONAL": true, "TERMINATED": true, "CANCELLED": true, "UNKNOWN": true}

// ParseFileInventory reads the content of an inventory file. Unknown members, a missing id,
// an id given twice and an unknown state are errors that name the entry.
func ParseFileInventory(data []byte) (*FileInventory, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var list []order.ServicePoint
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("not a JSON array of service points: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON array of service points")
	}
	idx := &fileIndex{by: map[order.Criterion]map[string][]order.ServicePoint{
		order.ByID: {}, order.ByReference: {}, order.ByCustomerReference: {},
	}, len: len(list)}
	for i, sp := range list {
		switch {
		case sp.ID == "":
			return nil, fmt.Errorf("entry %d: id is missing", i+1)
		case len(idx.by[order.ByID][sp.ID]) > 0:
			return nil, fmt.Errorf("entry %d: id %q given twice", i+1, sp.ID)
		case sp.State != "" && !validStates[sp.State]:
			return nil, fmt.Errorf("entry %d (id %q): state %q is not one of INSTALLING, OPERATIONAL, TERMINATED, CANCELLED, UNKNOWN", i+1, sp.ID, sp.State)
		}
		idx.by[order.ByID][sp.ID] = append(idx.by[order.ByID][sp.ID], sp)
		if sp.Reference != "" {
			idx.by[order.ByReference][sp.Reference] = append(idx.by[order.ByReference][sp.Reference], sp)
		}
		if sp.CustomerReference != "" {
			idx.by[order.ByCustomerReference][sp.CustomerReference] = append(idx.by[order.ByCustomerReference][sp.CustomerReference], sp)
		}
	}
	f := &FileInventory{}
	f.index.Store(idx)
	return f, nil
}

// LoadFileInventory reads an inventory file; errors name the file.
func LoadFileInventory(path string) (*FileInventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFileInventory(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Len returns the number of service points.
func (f *FileInventory) Len() int { return f.index.Load().len }

// Replace takes the content of another inventory (for a reload).
func (f *FileInventory) Replace(other *FileInventory) { f.index.Store(other.index.Load()) }

// Find implements Inventory.
func (f *FileInventory) Find(_ context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	matches := f.index.Load().by[l.Criterion][l.Value]
	out := make([]order.ServicePoint, len(matches))
	copy(out, matches)
	return out, nil
}
