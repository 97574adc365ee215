package servicepoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordergate/ordergate/processor/order"
)

// FileInventory is an inventory held in memory, read from a JSON array of service points
// ({"id", "reference", "customerReference", "name", "market", "state"}) and indexed by the
// three criteria. It stands in for the inventory service in the dev mode, tests and small
// installations, behind the same Redis cache. It is safe for concurrent use; Load and
// Replace swap its whole content atomically (the worker reloads it on SIGHUP), so a lookup
// sees either the old content or the new one. The zero value is an empty inventory.
type FileInventory struct {
	index atomic.Pointer[fileIndex]
}

type fileIndex struct {
	by  [3]map[string][]order.ServicePoint // by criterion, in criterionIndex order
	len int
}

// validStates are the states a service point may be in (contract section 4).
var validStates = map[string]bool{"INSTALLING": true, "OPERATIONAL": true, "TERMINATED": true, "CANCELLED": true, "UNKNOWN": true}

// NewFileInventory indexes a list of service points. Each needs an id, unique in the list,
// and a state, when given, among INSTALLING, OPERATIONAL, TERMINATED, CANCELLED, UNKNOWN.
// Several service points may share a reference or a customer reference: a lookup by it
// then finds them all.
func NewFileInventory(points []order.ServicePoint) (*FileInventory, error) {
	idx := &fileIndex{len: len(points)}
	for c := range idx.by {
		idx.by[c] = make(map[string][]order.ServicePoint)
	}
	first := make(map[string]int, len(points))
	for i, sp := range points {
		if sp.ID == "" {
			return nil, fmt.Errorf("entry [%d]: id is missing or empty", i)
		}
		if j, ok := first[sp.ID]; ok {
			return nil, fmt.Errorf("entry [%d]: id %q already given by entry [%d]", i, sp.ID, j)
		}
		if sp.State != "" && !validStates[sp.State] {
			return nil, fmt.Errorf("entry [%d] (id %q): state %q is not one of INSTALLING, OPERATIONAL, TERMINATED, CANCELLED, UNKNOWN", i, sp.ID, sp.State)
		}
		first[sp.ID] = i
		for c, v := range [3]string{sp.ID, sp.Reference, sp.CustomerReference} {
			if v != "" {
				idx.by[c][v] = append(idx.by[c][v], sp)
			}
		}
	}
	f := &FileInventory{}
	f.index.Store(idx)
	return f, nil
}

// ParseFileInventory reads the content of an inventory file: one JSON array of service
// points and nothing after it. Unknown members (a misspelt "customerRef"), a member of the
// wrong type, a missing or repeated id and an unknown state are errors that say where:
// the entry's index in the array ("entry [2]") and id, or the line and column of a JSON
// error with its JSON pointer ("/2/state").
func ParseFileInventory(data []byte) (*FileInventory, error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' {
		return nil, errors.New("not a JSON array of service points (the file must start with '[')")
	}
	var points []order.ServicePoint
	if err := json.Unmarshal(data, &points, json.RejectUnknownMembers(true)); err != nil {
		return nil, jsonError(data, err)
	}
	return NewFileInventory(points)
}

// LoadFileInventory reads an inventory file. Every error names the file.
func LoadFileInventory(path string) (*FileInventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory file: %w", err) // *PathError names the file
	}
	f, err := ParseFileInventory(data)
	if err != nil {
		return nil, fmt.Errorf("inventory file %s: %w", path, err)
	}
	return f, nil
}

// Load replaces the content of f with that of the file at path (a reload). On an error the
// content is left as it was, and the error names the file.
func (f *FileInventory) Load(path string) error {
	g, err := LoadFileInventory(path)
	if err != nil {
		return err
	}
	f.Replace(g)
	return nil
}

// Replace gives f the content of other, atomically.
func (f *FileInventory) Replace(other *FileInventory) { f.index.Store(other.index.Load()) }

// Len returns the number of service points.
func (f *FileInventory) Len() int {
	if idx := f.index.Load(); idx != nil {
		return idx.len
	}
	return 0
}

// Find implements Inventory. It returns a copy the caller may keep, and fails only for a
// lookup that package order never builds (ErrInvalidLookup).
func (f *FileInventory) Find(_ context.Context, l order.Lookup) ([]order.ServicePoint, error) {
	if err := checkLookup(l); err != nil {
		return nil, err
	}
	idx := f.index.Load()
	if idx == nil {
		return []order.ServicePoint{}, nil
	}
	matches := idx.by[criterionIndex(l.Criterion)][l.Value]
	return append(make([]order.ServicePoint, 0, len(matches)), matches...), nil
}

// criterionIndex maps a valid criterion to its index in fileIndex.by.
func criterionIndex(c order.Criterion) int {
	switch c {
	case order.ByReference:
		return 1
	case order.ByCustomerReference:
		return 2
	}
	return 0
}

// jsonError locates a JSON error in data as a line and column, with the entry it is in.
func jsonError(data []byte, err error) error {
	var offset int64 = -1
	var pointer jsontext.Pointer
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		offset, pointer = syn.ByteOffset, syn.JSONPointer
	case errors.As(err, &sem):
		offset, pointer = sem.ByteOffset, sem.JSONPointer
	}
	if offset < 0 || offset > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	where := fmt.Sprintf("line %d, column %d", line, col)
	if pointer != "" {
		where += fmt.Sprintf(" (at %s)", pointer)
	}
	return fmt.Errorf("%s: %w", where, err)
}
