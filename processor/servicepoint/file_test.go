package servicepoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ordergate/ordergate/processor/order"
)

const sampleFile = `[
  {"id": "SP-A", "reference": "REF-A", "customerReference": "CUST-1", "name": "Tabac A", "market": "FR", "state": "OPERATIONAL"},
  {"id": "SP-B", "reference": "REF-B", "customerReference": "CUST-1", "name": "Tabac B", "market": "BE", "state": "INSTALLING"},
  {"id": "SP-C", "reference": "REF-C", "name": "No customer reference", "market": "FR", "state": "TERMINATED"}
]`

// TestFileInventoryFind: lookups by each criterion, including one that finds several.
func TestFileInventoryFind(t *testing.T) {
	f, err := ParseFileInventory([]byte(sampleFile))
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 3 {
		t.Fatalf("Len %d", f.Len())
	}
	a := order.ServicePoint{ID: "SP-A", Reference: "REF-A", CustomerReference: "CUST-1", Name: "Tabac A", Market: "FR", State: "OPERATIONAL"}
	b := order.ServicePoint{ID: "SP-B", Reference: "REF-B", CustomerReference: "CUST-1", Name: "Tabac B", Market: "BE", State: "INSTALLING"}
	for _, tc := range []struct {
		l    order.Lookup
		want []order.ServicePoint
	}{
		{byID("SP-A"), []order.ServicePoint{a}},
		{order.Lookup{Criterion: order.ByReference, Value: "REF-B"}, []order.ServicePoint{b}},
		{order.Lookup{Criterion: order.ByCustomerReference, Value: "CUST-1"}, []order.ServicePoint{a, b}},
		{byID("REF-A"), []order.ServicePoint{}},                                              // values are per criterion
		{order.Lookup{Criterion: order.ByReference, Value: "ref-a"}, []order.ServicePoint{}}, // exact match
		{order.Lookup{Criterion: order.ByCustomerReference, Value: "nope"}, []order.ServicePoint{}},
	} {
		got, err := f.Find(context.Background(), tc.l)
		if err != nil || got == nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q: got %+v, %v; want %+v", tc.l.Criterion, tc.l.Value, got, err, tc.want)
		}
	}
	// The answer is the caller's: changing it does not change the inventory.
	got, _ := f.Find(context.Background(), byID("SP-A"))
	got[0].Market = "XX"
	if again, _ := f.Find(context.Background(), byID("SP-A")); again[0].Market != "FR" {
		t.Fatal("Find returned the inventory's own slice")
	}
	if _, err := f.Find(context.Background(), order.Lookup{Criterion: "name", Value: "Tabac A"}); !errors.Is(err, ErrInvalidLookup) {
		t.Errorf("unknown criterion: %v", err)
	}
	var zero FileInventory
	if got, err := zero.Find(context.Background(), byID("SP-A")); err != nil || got == nil || len(got) != 0 || zero.Len() != 0 {
		t.Errorf("zero value: %+v, %v", got, err)
	}
}

// TestFileInventoryErrors: a bad file is refused with an error that says what is wrong and
// where.
func TestFileInventoryErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{``, "must start with '['"},
		{`{}`, "must start with '['"},
		{`null`, "must start with '['"},
		{`[] []`, "line 1, column 4"},
		{"[\n  {\"id\": \"A\",}\n]", "line 2"},
		{`[{"id":"A"},{"id":"A"}]`, `entry [1]: id "A" already given by entry [0]`},
		{`[{"reference":"R"}]`, "entry [0]: id is missing"},
		{`[{"id":""}]`, "entry [0]: id is missing or empty"},
		{"[\n{\"id\":\"A\"},\n{\"id\":\"B\",\"customerRef\":\"C\"}]", `line 3, column 11 (at /1/customerRef)`},
		{`[{"id":"A","ID":"B"}]`, "/0/ID"},
		{`[{"id":7}]`, "/0/id"},
		{`[{"id":"A","state":"BROKEN"}]`, `entry [0] (id "A"): state "BROKEN" is not one of`},
		{`[{"id":"A","id":"B"}]`, "duplicate"},
	} {
		_, err := ParseFileInventory([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.data, err, tc.want)
		}
	}
}

// TestFileInventoryLoad: a file loads, a bad one is refused with its name in the error, and
// a failed reload leaves the content in force.
func TestFileInventoryLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "inventory.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(sampleFile), 0o600)
	os.WriteFile(bad, []byte(`[{"id":"A","state":"BROKEN"}]`), 0o600)

	f, err := LoadFileInventory(good)
	if err != nil || f.Len() != 3 {
		t.Fatalf("%v", err)
	}
	for _, path := range []string{bad, filepath.Join(dir, "missing.json"), dir} {
		if _, err := LoadFileInventory(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file", path, err)
		}
		if err := f.Load(path); err == nil || f.Len() != 3 {
			t.Errorf("reload from %s: %v, Len %d; want an error and the old content", path, err, f.Len())
		}
	}
	os.WriteFile(good, []byte(`[{"id":"SP-Z"}]`), 0o600)
	if err := f.Load(good); err != nil || f.Len() != 1 {
		t.Fatalf("reload: %v, Len %d", err, f.Len())
	}
	if got, _ := f.Find(context.Background(), byID("SP-A")); len(got) != 0 {
		t.Error("old content still answers after a reload")
	}
}

// TestFileInventoryConcurrentReload: lookups during reloads see either content, whole.
func TestFileInventoryConcurrentReload(t *testing.T) {
	one, _ := NewFileInventory([]order.ServicePoint{{ID: "A", CustomerReference: "C"}, {ID: "B", CustomerReference: "C"}})
	two, _ := NewFileInventory([]order.ServicePoint{{ID: "X", CustomerReference: "C"}, {ID: "Y", CustomerReference: "C"}, {ID: "Z", CustomerReference: "C"}})
	f, _ := NewFileInventory(nil)
	f.Replace(one)
	var writer, readers sync.WaitGroup
	stop := make(chan struct{})
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				f.Replace(two)
			} else {
				f.Replace(one)
			}
		}
	})
	for range 4 {
		readers.Go(func() {
			for range 2000 {
				got, err := f.Find(context.Background(), order.Lookup{Criterion: order.ByCustomerReference, Value: "C"})
				if err != nil || (len(got) != 2 && len(got) != 3) {
					t.Errorf("got %+v, %v", got, err)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writer.Wait()
}
