package servicepoint

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/foundation/testredis"
	"github.com/ordergate/ordergate/processor/order"
)

// suitePoints is the inventory every implementation is tested with.
var suitePoints = []order.ServicePoint{
	{ID: "P1", Reference: "R1", CustomerReference: "C-shared", Name: "one", Market: "FR", State: "OPERATIONAL"},
	{ID: "P2", Reference: "R2", CustomerReference: "C-shared", Name: "two", Market: "FR", State: "INSTALLING"},
	{ID: "P3", Reference: "R-shared", CustomerReference: "C3", Name: "three", Market: "BE", State: "TERMINATED"},
	{ID: "P4", Reference: "R-shared", CustomerReference: "C:4 &=é", Name: "four", Market: "FR", State: "CANCELLED"},
	{ID: "P5:x", Name: "five, only an id", Market: "FR", State: "UNKNOWN"},
}

// suiteCases are the lookups of the suite with their answers.
var suiteCases = []struct {
	l    order.Lookup
	want []order.ServicePoint
}{
	{order.Lookup{Criterion: order.ByID, Value: "P1"}, suitePoints[0:1]},
	{order.Lookup{Criterion: order.ByID, Value: "P5:x"}, suitePoints[4:5]},
	{order.Lookup{Criterion: order.ByReference, Value: "R2"}, suitePoints[1:2]},
	{order.Lookup{Criterion: order.ByReference, Value: "R-shared"}, suitePoints[2:4]},
	{order.Lookup{Criterion: order.ByCustomerReference, Value: "C-shared"}, suitePoints[0:2]},
	{order.Lookup{Criterion: order.ByCustomerReference, Value: "C:4 &=é"}, suitePoints[3:4]},
	{order.Lookup{Criterion: order.ByID, Value: "R1"}, []order.ServicePoint{}},
	{order.Lookup{Criterion: order.ByReference, Value: "P1"}, []order.ServicePoint{}},
	{order.Lookup{Criterion: order.ByCustomerReference, Value: "c-shared"}, []order.ServicePoint{}},
}

// testInventory is the suite every Inventory passes: exact matches per criterion, several
// matches, none as an empty list, odd values, and invalid lookups refused.
func testInventory(t *testing.T, inv Inventory) {
	t.Helper()
	for _, tc := range suiteCases {
		got, err := inv.Find(context.Background(), tc.l)
		if err != nil || got == nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q: got %+v, %v; want %+v", tc.l.Criterion, tc.l.Value, got, err, tc.want)
		}
	}
	for _, l := range []order.Lookup{{Criterion: "name", Value: "one"}, {Criterion: order.ByID, Value: ""}} {
		if _, err := inv.Find(context.Background(), l); !errors.Is(err, ErrInvalidLookup) {
			t.Errorf("%+v: %v, want ErrInvalidLookup", l, err)
		}
	}
}

func TestInventorySuite(t *testing.T) {
	file, err := NewFileInventory(suitePoints)
	if err != nil {
		t.Fatal(err)
	}
	srv := newInventoryServer(t, suitePoints...)
	for name, inv := range map[string]Inventory{
		"FileInventory": file,
		"HTTPInventory": NewHTTPInventory(srv.URL, "token", time.Second, nil),
	} {
		t.Run(name, func(t *testing.T) {
			testInventory(t, inv)
			// The resolver in front of it answers the same, cold and warm.
			r, _ := newResolver(t, testredis.Shared(t), inv, Options{})
			lookups := make([]order.Lookup, len(suiteCases))
			for i, tc := range suiteCases {
				lookups[i] = tc.l
			}
			for _, round := range []string{"cold", "warm"} {
				got, err := r.Resolve(context.Background(), lookups)
				if err != nil {
					t.Fatal(err)
				}
				for i, tc := range suiteCases {
					if !reflect.DeepEqual(got[i], tc.want) {
						t.Errorf("resolver, %s, %s %q: got %+v, want %+v", round, tc.l.Criterion, tc.l.Value, got[i], tc.want)
					}
				}
			}
		})
	}
}
