package match

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kith/sync/match/groundtruth"
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

// fatherSonAndThird are a father's and a son's cards of one name at one
// home, birthdays a generation apart, and a third card of one of them
// without a birthday.
func fatherSonAndThird() []Evidence {
	var ev []Evidence
	for _, c := range [][2]string{{"a", "1958-06-01"}, {"b", "1987-02-17"}, {"c", ""}} {
		ev = append(ev, Evidence{Key: c[0], FN: "Tom Berg", Birthday: c[1], Phones: []Phone{home("+44 20 7946 0005")},
			Addresses: []Address{{Street: "3 Mill Lane", Locality: "York", Postcode: "YO1 7HH"}}})
	}
	return ev
}

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
			name: "household: one address and home phone, different given names and birthdays",
			ev: []Evidence{
				{Key: "a", FN: "Anna Berg", Birthday: "1961-03-04", Phones: []Phone{home("+44 20 7946 0001")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds", Postcode: "LS1 4AB"}}},
				{Key: "b", FN: "Lukas Berg", Birthday: "1990-11-23", Phones: []Phone{home("+44 20 7946 0001")},
					Addresses: []Address{{Street: "12 Elm Rd", Locality: "Leeds", Postcode: "LS1 4AB"}}},
				{Key: "c", FN: "Mia Berg", Phones: []Phone{home("02079460001")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds"}}},
			},
			want: "a b c",
		},
		{
			name: "a family-name card at a household's home joins no two of its members",
			ev: []Evidence{
				{Key: "a", FN: "Anna Berg", Birthday: "1961-03-04", Phones: []Phone{home("+44 20 7946 0004")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds", Postcode: "LS1 4AB"}}},
				{Key: "b", FN: "Lukas Berg", Birthday: "1990-11-23", Phones: []Phone{home("+44 20 7946 0004")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds", Postcode: "LS1 4AB"}}},
				{Key: "c", FN: "Berg", Phones: []Phone{home("+44 20 7946 0004")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds", Postcode: "LS1 4AB"}}},
			},
			// "Berg" could be either: a possible duplicate of both, joined
			// to neither.
			want:     "a b c",
			possible: 2,
		},
		{
			name: "father and son: one name and home, birthdays a generation apart",
			ev: []Evidence{
				{Key: "a", FN: "Tom Berg", Birthday: "1958-06-01", Phones: []Phone{home("+44 20 7946 0002")},
					Addresses: []Address{{Street: "3 Mill Lane", Locality: "York", Postcode: "YO1 7HH"}}},
				{Key: "b", FN: "Tom Berg", Birthday: "1987-02-17", Phones: []Phone{home("+44 20 7946 0002")},
					Addresses: []Address{{Street: "3 Mill Ln", Locality: "York", Postcode: "YO1 7HH"}}},
			},
			want: "a b",
		},
		{
			name: "father and son of one name and home, and a card of either without a birthday",
			ev:   fatherSonAndThird(),
			// c is as like the father as the son: a possible duplicate of
			// both, joined to neither (by the order of equal scores it
			// went to one of them).
			want:     "a b c",
			possible: 2,
		},
		{
			name:     "the user's join of a card as like two groups stands",
			ev:       fatherSonAndThird(),
			cons:     []Constraint{{A: "b", B: "c", Together: true}},
			want:     "a b+c",
			possible: 1,
		},
		{
			name: "one person's cards at one home: the same birthday",
			ev: []Evidence{
				{Key: "a", FN: "Anna Berg", Birthday: "1961-03-04", Phones: []Phone{home("+44 20 7946 0003")},
					Addresses: []Address{{Street: "12 Elm Road", Locality: "Leeds", Postcode: "LS1 4AB"}}},
				{Key: "b", FN: "Ana Berg", Birthday: "04.03.1961",
					Addresses: []Address{{Street: "12 Elm Rd", Locality: "Leeds", Postcode: "LS1 4AB"}}},
			},
			want: "a+b",
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
			name: "namesakes with nothing else in common",
			ev: []Evidence{
				person("a", "John Smith", []string{"js@one.example"}),
				person("b", "John Smith", []string{"john@two.example"}),
			},
			// The same full name is evidence, not enough to join.
			want:     "a b",
			possible: 1,
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
			name: "OCR slips in a scanned tel: URI",
			ev: []Evidence{
				person("a", "Lena Stone", nil, cell("+49 171 1234567")),
				{Key: "b", FN: "Lena St0ne", Phones: []Phone{cell("tel:+49-l7l-l234567")}, Scanned: true},
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
			name: "company cards join on the shared switchboard, people stay apart",
			ev: []Evidence{
				{Key: "a", FN: "Acme GmbH", Org: "Acme GmbH", Phones: []Phone{work("+49 30 1234-0")}},
				{Key: "b", FN: "ACME", Org: "ACME", Phones: []Phone{work("+49 30 12340")}, Emails: []string{"info@acme.example"}},
				person("c", "Ann Lee", []string{"info@acme.example"}, work("+49 30 1234-0")),
				person("d", "Bob Stone", nil, work("+49 30 1234-0")),
			},
			want:     "a+b c d",
			possible: -1,
		},
		{
			name: "an FN that is an email address is no name",
			ev: []Evidence{
				person("a", "ann@example.com", []string{"ann@example.com"}),
				person("b", "Ann Lee", []string{"Ann@Example.com"}),
				person("c", "+49 171 5555555", nil, cell("0171 5555555")),
				person("d", "Ann Lee", nil, cell("+491715555555")),
			},
			want:     "a+b c+d",
			possible: -1,
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

// TestClusterDeterministic runs Cluster on a generated world twice (it
// works on all CPUs) and expects the same result.
func TestClusterDeterministic(t *testing.T) {
	w := groundtruth.Generate(groundtruth.Config{Seed: 7, People: 2500})
	ev := evidenceOf(&w)
	a, err := Cluster(context.Background(), ev, nil, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Cluster(context.Background(), ev, nil, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs differ")
	}
	checkPartition(t, len(ev), a)
	for _, p := range a.Possible {
		if p.A >= p.B || p.Score <= 0 || p.Score > 1 || p.Reason == "" {
			t.Errorf("bad possible pair %+v", p)
		}
	}
}

func TestClusterCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := groundtruth.Generate(groundtruth.Config{Seed: 1, People: 100})
	if _, err := Cluster(ctx, evidenceOf(&w), nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestClusterEmpty(t *testing.T) {
	res, err := Cluster(context.Background(), nil, []Constraint{{A: "x", B: "y"}}, Options{})
	if err != nil || len(res.Groups) != 0 || len(res.Possible) != 0 {
		t.Errorf("Cluster(nil) = %+v, %v", res, err)
	}
}

// TestReasons keeps the words of reasons and possible duplicates in a golden
// file: they are what a user reads in kith explain and the report.
func TestReasons(t *testing.T) {
	ev := []Evidence{
		{Key: "work:ann.vcf", FN: "Ann Lee", Emails: []string{"ann.lee@acme.example"}, Phones: []Phone{work("+49 30 1234-0")}, Org: "Acme"},
		{Key: "home:ann.vcf", FN: "Anne Lee", Emails: []string{"Ann.Lee@acme.example"}, Phones: []Phone{cell("0171 5555555")}},
		{Key: "scan:ann.vcf#1", FN: "Anne Lcc", Phones: []Phone{cell("+49 l7l 5555555")}, Scanned: true},
		{Key: "work:bob.vcf", FN: "Bob Stone", Phones: []Phone{work("+49 30 12340")}, Org: "Acme", Title: "CFO"},
		{Key: "home:robert.vcf", FN: "Stone, Robert", Org: "ACME GmbH", Title: "cfo"},
		{Key: "work:ann2.vcf", FN: "Ann Lee", Phones: []Phone{work("+49 30 1234-0")}, Org: "Acme"},
		{Key: "home:john.vcf", FN: "John Smith"},
		{Key: "work:john.vcf", FN: "John Smith", Emails: []string{"john@other.example"}},
	}
	res, err := Cluster(context.Background(), ev, []Constraint{{A: "home:john.vcf", B: "work:john.vcf"}}, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := groupsOf(ev, res) + "\n" + dump(ev, res)
	golden := filepath.Join("testdata", "reasons.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./sync/match -run TestReasons -args -update)", err)
	}
	if string(want) != got {
		t.Errorf("reasons changed; run with -update to accept:\n%s", got)
	}
}

// FuzzCluster builds small worlds from fuzzed names, emails and numbers,
// some shared between records, and checks Cluster's promises: a partition,
// one reason a join, no group holding two records with strong evidence
// against each other, apart constraints kept.
func FuzzCluster(f *testing.F) {
	f.Add("Ann Lee|Anne Lee|Bob Lee|A. Lee", "a@x.example|a@x.example|b@x.example|", "+49301234|+49301234|+49301234|", uint8(3))
	f.Add("Smith, John|J. Smith|Jane Smith|", "js@x|js@x||", "|1|1|1", uint8(0))
	f.Add("T0mmy Wang|Thomas Wang|Tom Wang|Tina Wang", "t@w|t@w|t@w|t@w", "", uint8(15))
	nz := de(f)
	f.Fuzz(func(t *testing.T, names, emails, phones string, scanned uint8) {
		ns, es, ps := strings.Split(names, "|"), strings.Split(emails, "|"), strings.Split(phones, "|")
		n := min(max(len(ns), len(es), len(ps)), 12)
		ev := make([]Evidence, n)
		for i := range ev {
			ev[i].Key = fmt.Sprint("k", i)
			ev[i].Scanned = scanned&(1<<(i%8)) != 0
			if i < len(ns) {
				ev[i].FN = ns[i]
			}
			if i < len(es) && es[i] != "" {
				ev[i].Emails = []string{es[i]}
			}
			if i < len(ps) && ps[i] != "" {
				ev[i].Phones = []Phone{{Number: ps[i], Types: []string{"cell"}}}
			}
		}
		cons := []Constraint{{A: "k0", B: "k1"}}
		res, m, _, err := cluster(context.Background(), ev, cons, Options{Normalizer: nz})
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, n, res)
		for _, g := range res.Groups {
			for x := 0; x < len(g.Members); x++ {
				for y := x + 1; y < len(g.Members); y++ {
					a, b := g.Members[x], g.Members[y]
					if a == 0 && b == 1 {
						t.Fatalf("k0 and k1 joined against an apart constraint")
					}
					p := m.compare(m.recs[a], m.recs[b], false)
					if v := m.model.strong(p.v.pack(), p.tf[cPhone], p.veto); v != 0 {
						t.Fatalf("group %v holds %q and %q: %s", g.Members, ev[a].FN, ev[b].FN, vetoText(v))
					}
				}
			}
		}
	})
}

// TestLargeBlocks feeds a company of 3000 people behind one switchboard and
// info@ address, and 3000 namesakes: nothing may join, and the windowed
// blocks keep the work linear (a quadratic pass would take minutes).
func TestLargeBlocks(t *testing.T) {
	var ev []Evidence
	for i := range 3000 {
		ev = append(ev, Evidence{
			Key: fmt.Sprint("co", i), FN: fmt.Sprintf("Person%d Worker%d", i, i%97),
			Emails: []string{"info@bigco.example", fmt.Sprintf("p%d@bigco.example", i)},
			Phones: []Phone{work("+49 30 9999-0")}, Org: "BigCo",
		})
	}
	for i := range 3000 {
		ev = append(ev, Evidence{Key: fmt.Sprint("js", i), FN: "John Smith", Emails: []string{fmt.Sprintf("john%d@example.com", i)}})
	}
	res, err := Cluster(context.Background(), ev, nil, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != len(ev) {
		t.Errorf("%d groups, want %d", len(res.Groups), len(ev))
	}
	checkPartition(t, len(ev), res)
}

func TestClusterWithoutRegion(t *testing.T) {
	ev := []Evidence{
		person("a", "Ann Lee", nil, cell("+49 171 5555555")),
		person("b", "Anne Lee", nil, cell("+491715555555")),
		person("c", "Ann Lee", nil, cell("0171 5555555")), // no region: cannot be read as +49
	}
	res, err := Cluster(context.Background(), ev, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// c's number is not read as +49, yet its subscriber digits agree.
	if got := groupsOf(ev, res); got != "a+b+c" {
		t.Errorf("groups = %q, want %q", got, "a+b+c")
	}
	if r := strings.Join(res.Groups[0].Reasons, "\n"); !strings.Contains(r, "same subscriber digits") || strings.Contains(r, "same mobile (+491715555555 / ") {
		t.Errorf("reasons = %s", r)
	}
}

// Reasons format weights with appendSigned, which must read as fmt's %+.1f.
func TestSignedFormatsAsFmt(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 0.04, -0.04, -0.05, 0.05, 0.15, 1.25, -3.75, 12345.67, math.Inf(1), math.Inf(-1), math.NaN()} {
		if got, want := string(appendSigned([]byte("w "), x, 64)), fmt.Sprintf("w %+.1f", x); got != want {
			t.Errorf("appendSigned(%v, 64) = %q, want %q", x, got, want)
		}
		if got, want := string(appendSigned(nil, float64(float32(x)), 32)), fmt.Sprintf("%+.1f", float32(x)); got != want {
			t.Errorf("appendSigned(%v, 32) = %q, want %q", x, got, want)
		}
	}
}
