package match

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// candidatePairs returns Cluster's candidate pairs of ev with a result.
func candidatePairs(t *testing.T, ev []Evidence) (Result, *matcher, []uint64) {
	t.Helper()
	res, m, pairs, err := cluster(context.Background(), ev, nil, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	return res, m, pairs
}

// strangers are cards of other people at other companies, so that a book
// has something to estimate weights from.
func strangers(n int) []Evidence {
	given := []string{"Anna", "Bernd", "Clara", "Dieter", "Elena", "Felix", "Greta", "Hannes", "Ida", "Jonas"}
	family := []string{"Albers", "Brandt", "Conrad", "Dietz", "Eckert", "Fuchs", "Gerber", "Hahn", "Iske", "Jansen", "Kraft", "Lorenz"}
	var ev []Evidence
	for k := range n {
		g, f := given[k%len(given)], family[(k/len(given))%len(family)]
		ev = append(ev, Evidence{Key: fmt.Sprintf("s%d", k), FN: g + " " + f, Given: g, Family: f,
			Org: fmt.Sprintf("Firma %d", k%7), Title: "Engineer",
			Emails: []string{fmt.Sprintf("s%d@example.org", k)}, Phones: []Phone{cell(fmt.Sprintf("+49 171 %07d", k))}})
	}
	return ev
}

// TestSlippedNamesMeet: two business cards of one person at one company
// whose names differ by one slip of the hand, or a short form no nickname
// table knows, and which share no email, phone, address or birthday, are
// compared (they share no key of the former blocking); a slip of one
// letter, with the organisation and title, makes them possible duplicates
// (a short form weighs less: they are only compared).
func TestSlippedNamesMeet(t *testing.T) {
	tests := []struct {
		a, b  [2]string
		short bool
	}{
		{[2]string{"Sofie", "Lindqvist"}, [2]string{"Sogie", "Lindqvist"}, false},        // a letter changed
		{[2]string{"Katarzyna", "Nowak"}, [2]string{"Katazryna", "Nowak"}, false},        // two letters swapped
		{[2]string{"Leilani", "Kahananui"}, [2]string{"Leiani", "Kahananui"}, false},     // a letter dropped
		{[2]string{"Astrid", "Lindqvist"}, [2]string{"Astrid", "Lindqvvist"}, false},     // the family name slipped
		{[2]string{"Bartholomew", "Okafor"}, [2]string{"Bart", "Okafor"}, true},          // a short form
		{[2]string{"Xiaoming", "Zhang"}, [2]string{"Ming", "Zhang"}, true},               // the end of the name
		{[2]string{"Giuseppe", "Esposito"}, [2]string{"Guiseppe", "Esposito"}, false},    // swapped, sound differs
		{[2]string{"Magnus", "Johansson"}, [2]string{"Magnus", "Johanson"}, false},       // a doubled letter dropped
		{[2]string{"Valentina", "Hernández"}, [2]string{"Valentina", "Hernádez"}, false}, // a letter dropped
	}
	for _, tt := range tests {
		t.Run(tt.a[0]+" "+tt.a[1]+" / "+tt.b[0]+" "+tt.b[1], func(t *testing.T) {
			card := func(key string, n [2]string) Evidence {
				return Evidence{Key: key, FN: n[0] + " " + n[1], Given: n[0], Family: n[1], Org: "Halcyon Labs", Title: "Sales Manager"}
			}
			ev := append(strangers(60), card("a", tt.a), card("b", tt.b))
			a, b := int32(len(ev)-2), int32(len(ev)-1)
			res, m, pairs := candidatePairs(t, ev)
			if _, ok := slices.BinarySearch(pairs, pairKey(a, b)); !ok {
				t.Fatalf("the two cards were not compared")
			}
			together := false
			for _, g := range res.Groups {
				together = together || slices.Contains(g.Members, int(a)) && slices.Contains(g.Members, int(b))
			}
			possible := slices.ContainsFunc(res.Possible, func(p Pair) bool { return p.A == int(a) && p.B == int(b) })
			if !together && !possible && !tt.short {
				t.Errorf("neither joined nor a possible duplicate: %s", m.reason(a, b))
			}
		})
	}
}

// TestPartnerBudget: in a book where every card carries one family name
// and nothing else to tell people apart, the records are compared with at
// most partnerBudget others each found by names, and the dropped pairs are
// counted; a pair that shares an email is compared whatever the budget,
// and the two cards of the one rare given name still meet.
func TestPartnerBudget(t *testing.T) {
	given := []string{"Anna", "Anne", "Annie", "Hanna", "Hannah", "Johanna", "Jana", "Jan", "Jon", "John", "Johan", "Jonas"}
	var ev []Evidence
	for k := range 1200 {
		g := given[k%len(given)]
		ev = append(ev, Evidence{Key: fmt.Sprintf("r%d", k), FN: g + " Smith", Given: g, Family: "Smith"})
	}
	ev = append(ev,
		Evidence{Key: "e1", FN: "Anna Smith", Given: "Anna", Family: "Smith", Emails: []string{"anna@smith.example"}},
		Evidence{Key: "e2", FN: "Anna Smith", Given: "Anna", Family: "Smith", Emails: []string{"anna@smith.example"}},
		Evidence{Key: "z1", FN: "Zoltan Smith", Given: "Zoltan", Family: "Smith"},
		Evidence{Key: "z2", FN: "Zoltán Smith", Given: "Zoltán", Family: "Smith"})
	n := int32(len(ev))
	res, _, pairs := candidatePairs(t, ev)
	if res.Blocking.Pairs != len(pairs) || res.Blocking.Budget != partnerBudget || res.Blocking.Dropped == 0 {
		t.Errorf("Blocking = %+v, want %d pairs, budget %d, some dropped", res.Blocking, len(pairs), partnerBudget)
	}
	// One pair shares an email; each of the others is among the
	// strongest partners of one of its records.
	if len(pairs) > int(n)*partnerBudget+1 {
		t.Errorf("%d pairs for %d records, want at most %d a record", len(pairs), n, partnerBudget)
	}
	for _, p := range []uint64{pairKey(n-4, n-3), pairKey(n-2, n-1)} {
		if _, ok := slices.BinarySearch(pairs, p); !ok {
			a, b := unpair(p)
			t.Errorf("%s and %s were not compared", ev[a].Key, ev[b].Key)
		}
	}
	t.Logf("%+v", res.Blocking)
}

// FuzzCompareSortKeys checks that compareJoined orders records in large
// blocks exactly as strings.Compare orders their joined sort keys
// (given|family|org), as blocking did when it made those strings.
func FuzzCompareSortKeys(f *testing.F) {
	f.Add("ann", "lee", "", "anna", "lee", "")
	f.Add("ann", "lee", "", "ann", "lee", "acme")
	f.Add("", "lee", "", "a", "", "")
	f.Add("ann|", "lee", "x", "ann", "|lee", "x")
	f.Add("ann~", "", "", "ann", "~", "")
	f.Add("jos\u00e9", "", "", "jose", "zz", "")
	f.Fuzz(func(t *testing.T, x0, x1, x2, y0, y1, y2 string) {
		x, y := [3]string{x0, x1, x2}, [3]string{y0, y1, y2}
		want := strings.Compare(x0+"|"+x1+"|"+x2, y0+"|"+y1+"|"+y2)
		if got := compareJoined(&x, &y); got != want {
			t.Fatalf("compareJoined(%q, %q) = %d, want %d", x, y, got, want)
		}
		if got := compareJoined(&y, &x); got != -want {
			t.Fatalf("compareJoined(%q, %q) = %d, want %d", y, x, got, -want)
		}
	})
}

// TestSortedKeysOrder: the blocking keys come sorted by hash, then record,
// a record's keys of one hash in the order it made them (the order of a
// block's members decides its windows).
func TestSortedKeysOrder(t *testing.T) {
	_, m, _ := candidatePairs(t, benchWorld(20_000))
	got, err := m.sortedKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []keyEntry
	for i := range m.recs {
		want = m.keys(i, want)
	}
	slices.SortStableFunc(want, func(x, y keyEntry) int { return cmp.Compare(x.h, y.h) })
	if !slices.Equal(got, want) {
		t.Fatalf("sortedKeys: %d entries, not in the order of a stable sort of %d by hash", len(got), len(want))
	}
}
