package match

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kith/sync/normalize"
)

func de(t testing.TB) *normalize.Normalizer {
	t.Helper()
	n, err := normalize.New("DE")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func person(key, fn string, emails []string, phones ...Phone) Evidence {
	return Evidence{Key: key, FN: fn, Emails: emails, Phones: phones}
}

func cell(n string) Phone { return Phone{Number: n, Types: []string{"cell"}} }
func work(n string) Phone { return Phone{Number: n, Types: []string{"work"}} }
func home(n string) Phone { return Phone{Number: n, Types: []string{"home"}} }

// groupsOf renders a result's groups as key lists, e.g. "a+b c".
func groupsOf(ev []Evidence, res Result) string {
	var out []string
	for _, g := range res.Groups {
		var ks []string
		for _, i := range g.Members {
			ks = append(ks, ev[i].Key)
		}
		out = append(out, strings.Join(ks, "+"))
	}
	return strings.Join(out, " ")
}

func TestCluster(t *testing.T) {
	tests := []struct {
		name     string
		ev       []Evidence
		cons     []Constraint
		want     string
		possible int // number of possible pairs, -1: don't care
	}{
		{
			name: "same email, nickname",
			ev: []Evidence{
				person("a", "Robert Smith", []string{"rob@example.com"}),
				person("b", "Bob Smith", []string{"ROB@example.com"}),
			},
			want: "a+b",
		},
		{
			name: "switchboard shared by different people",
			ev: []Evidence{
				person("a", "Ann Lee", nil, work("+49 30 1234-0")),
				person("b", "Bob Stone", nil, work("030 12340")),
				person("c", "Carl Maier", nil, work("+49 (30) 12340")),
				person("d", "Ann Lee", nil, work("+49301234-0")),
			},
			// Ann Lee twice on a switchboard is only a possible duplicate.
			want:     "a b c d",
			possible: 1,
		},
		{
			name: "household landline, same family",
			ev: []Evidence{
				person("a", "Ann Lee", nil, home("+44 20 7946 0000")),
				person("b", "Bob Lee", nil, home("+44 20 7946 0000")),
			},
			want: "a b",
		},
		{
			name: "info@ is a role address",
			ev: []Evidence{
				person("a", "Ann Lee", []string{"info@acme.example"}),
				person("b", "Ann Lee", []string{"info@acme.example"}),
			},
			want:     "a b",
			possible: 1,
		},
		{
			name: "namesakes with nothing in common",
			ev: []Evidence{
				person("a", "John Smith", []string{"js@one.example"}),
				person("b", "John Smith", []string{"john@two.example"}),
			},
			want: "a b",
		},
		{
			name: "transliteration and diacritics",
			ev: []Evidence{
				person("a", "Jürgen Müller", []string{"jm@example.de"}),
				person("b", "Juergen Mueller", nil, cell("0171 5555555")),
				person("c", "Jurgen Muller", []string{"jm@example.de"}, cell("+49 171 5555555")),
				person("d", "Søren Kierkegaard", []string{"sk@example.dk"}),
				person("e", "Soren Kierkegaard", []string{"SK@example.dk"}),
			},
			want: "a+b+c d+e",
		},
		{
			name: "swapped order and initials",
			ev: []Evidence{
				person("a", "Smith, John", []string{"john.smith@example.com"}),
				person("b", "J. Smith", []string{"john.smith@example.com"}),
				{Key: "c", Given: "Smith", Family: "John", Phones: []Phone{cell("+1 555 0100 123")}},
				person("d", "John Smith", []string{"john.smith@example.com"}, cell("+1 555 0100 123")),
			},
			want: "a+b+c+d",
		},
		{
			name: "chaining through an initial stops at a clash",
			ev: []Evidence{
				person("a", "John Smith", []string{"js@example.com"}),
				person("b", "J. Smith", []string{"js@example.com"}, cell("+1 555 0100 999")),
				person("c", "Jane Smith", nil, cell("+1 555 0100 999")),
			},
			// J. Smith joins John by email; Jane's cell then cannot pull her in.
			want:     "a+b c",
			possible: 1,
		},
		{
			name: "OCR slips in a scan with an agreeing email",
			ev: []Evidence{
				person("a", "Emma Smith", []string{"emma@example.com"}),
				{Key: "b", FN: "Ernrna Srnith", Emails: []string{"ernrna@exarnple.corn"}, Scanned: true},
			},
			want: "a+b",
		},
		{
			name: "OCR-like names without a scan stay apart",
			ev: []Evidence{
				person("a", "Emma Smith", []string{"emma@example.com"}),
				person("b", "Ernrna Srnith", []string{"ernrna@exarnple.corn"}),
			},
			want: "a b",
		},
		{
			name: "same full name, organisation and title",
			ev: []Evidence{
				{Key: "a", FN: "Maria Garcia", Org: "Acme GmbH", Title: "CFO"},
				{Key: "b", FN: "María García", Org: "ACME", Title: "cfo"},
			},
			want: "a+b",
		},
		{
			name: "user keeps apart",
			ev: []Evidence{
				person("a", "Ann Lee", []string{"ann@example.com"}),
				person("b", "Ann Lee", []string{"ann@example.com"}),
			},
			cons: []Constraint{{A: "a", B: "b"}},
			want: "a b",
		},
		{
			name: "user joins, apart wins over together",
			ev: []Evidence{
				person("a", "Ann Lee", nil),
				person("b", "Anna Smith", nil),
				person("c", "Bob Jones", nil),
			},
			cons: []Constraint{{A: "a", B: "b", Together: true}, {A: "b", B: "c", Together: true}, {A: "a", B: "c"}},
			want: "a+b c",
		},
		{
			name: "org card and person share a number",
			ev: []Evidence{
				{Key: "a", Org: "Acme Inc", Phones: []Phone{work("+1 212 555 0100")}},
				person("b", "Ann Lee", nil, work("+1 212 555 0100")),
			},
			want:     "a b",
			possible: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Cluster(context.Background(), tt.ev, tt.cons, Options{Normalizer: de(t)})
			if err != nil {
				t.Fatal(err)
			}
			if got := groupsOf(tt.ev, res); got != tt.want {
				t.Errorf("groups = %q, want %q\n%s", got, tt.want, dump(tt.ev, res))
			}
			if tt.possible >= 0 && len(res.Possible) != tt.possible {
				t.Errorf("possible = %d, want %d\n%s", len(res.Possible), tt.possible, dump(tt.ev, res))
			}
			checkPartition(t, len(tt.ev), res)
		})
	}
}

func dump(ev []Evidence, res Result) string {
	var b strings.Builder
	for _, g := range res.Groups {
		for _, r := range g.Reasons {
			fmt.Fprintf(&b, "  join: %s\n", r)
		}
	}
	for _, p := range res.Possible {
		fmt.Fprintf(&b, "  possible %s / %s %.2f: %s\n", ev[p.A].Key, ev[p.B].Key, p.Score, p.Reason)
	}
	return b.String()
}

// checkPartition asserts every index is in exactly one group, members
// ascending, groups ordered by first member, one reason per join.
func checkPartition(t *testing.T, n int, res Result) {
	t.Helper()
	seen := make([]bool, n)
	prev := -1
	for _, g := range res.Groups {
		if !slices.IsSorted(g.Members) || len(g.Members) == 0 || g.Members[0] <= prev {
			t.Fatalf("group %v out of order", g.Members)
		}
		prev = g.Members[0]
		for _, i := range g.Members {
			if seen[i] {
				t.Fatalf("index %d in two groups", i)
			}
			seen[i] = true
		}
		if len(g.Reasons) != len(g.Members)-1 {
			t.Fatalf("group %v has %d reasons", g.Members, len(g.Reasons))
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("index %d in no group", i)
		}
	}
}
