package match

import (
	"context"
	"fmt"
	"testing"

	"kith/sync/match/booksim"
	"kith/sync/normalize"
)

// booksimSeeds are the fixed books of the second generator.
var booksimSeeds = []uint64{1, 2, 3}

const booksimPeople = 2000

func booksimSet(b *booksim.Book, name string) labelled {
	set := labelled{name: name, region: "GB"}
	for _, r := range b.Records {
		set.ev = append(set.ev, FromCard(r.Key, r.Card, r.Scanned))
		set.person = append(set.person, r.Person)
	}
	return set
}

// booksimMin are the least TestBooksim accepts on each book. The issue's
// F1 0.99 is out of reach of any decision on these comparisons: with the
// truth in hand, the best decision per comparison pattern reaches F1
// 0.75-0.77 on these books (BenchmarkBooksimCeiling), because most of
// their duplicates share nothing but a name with a slip in it among
// hundreds of namesakes.
const (
	booksimMinPrecision = 0.96
	booksimMinF1        = 0.74
)

// TestBooksim measures matching on books from the second generator
// (package booksim), written from other assumptions than groundtruth:
// pairwise F1, and no two different people merged on its hard cases
// (households, a father and son of one name, namesakes at one company,
// namesakes elsewhere).
func TestBooksim(t *testing.T) {
	for _, seed := range booksimSeeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			b := booksim.Generate(seed, booksimPeople)
			set := booksimSet(&b, fmt.Sprint("booksim", seed))
			q, res, m := measure(t, set)
			wrong := map[string]int{}
			for _, g := range res.Groups {
				for x := 0; x < len(g.Members); x++ {
					for y := x + 1; y < len(g.Members); y++ {
						i, j := g.Members[x], g.Members[y]
						if p, o := set.person[i], set.person[j]; p != o {
							rel := b.Relation(p, o)
							wrong[rel]++
							if rel == "father and son" && told(m, i, j) {
								wrong["father and son, told apart by birthday or mobile"]++
								t.Logf("father and son: %s\n    %s", brief(set.ev[i]), brief(set.ev[j]))
							}
						}
					}
				}
			}
			t.Logf("%s wrong pairs %v", q.row(set.name), wrong)
			old, err := Cluster(context.Background(), set.ev, nil, Options{Normalizer: mustRegion(t, "GB"), RuleCascade: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rule cascade: %s", scoreGroups(set, old).row(set.name))
			if q.precision < booksimMinPrecision || q.f1 < booksimMinF1 {
				t.Errorf("precision %.4f F1 %.4f, want >= %.2f and >= %.2f", q.precision, q.f1, booksimMinPrecision, booksimMinF1)
			}
			// A father and son of one name at one address whose cards carry
			// no birthday and no mobile are one person to any reader.
			for _, k := range []string{"father and son, told apart by birthday or mobile", "company namesakes", "household", "namesakes"} {
				if wrong[k] > 0 {
					t.Errorf("%d wrong pairs of %s", wrong[k], k)
				}
			}
			if t.Failed() {
				logErrors(t, set, res, m, 8)
			}
		})
	}
}

func mustRegion(t testing.TB, region string) *normalize.Normalizer {
	nz, err := normalize.New(region)
	if err != nil {
		t.Fatal(err)
	}
	return nz
}

// told reports whether records i and j carry what tells a father from his
// son of the same name at the same address: birthdays that differ by more
// than a slip, or two mobiles that differ.
func told(m *matcher, i, j int) bool {
	p := m.compare(m.recs[i], m.recs[j], false)
	b, ph := p.v[cBirthday], p.v[cPhone]
	return b == 0 || b == 5 || ph == 1 || ph == 5
}

// BenchmarkBooksimCeiling measures what any decision on kith's comparisons
// can reach on the first book: every pair of records compared, and each
// comparison pattern decided the way the truth says most of its pairs
// are. Run: go test ./sync/match -run '^$' -bench BooksimCeiling -benchtime 1x
func BenchmarkBooksimCeiling(b *testing.B) {
	book := booksim.Generate(booksimSeeds[0], booksimPeople)
	set := booksimSet(&book, "booksim1")
	for b.Loop() {
		_, m, _, err := cluster(context.Background(), set.ev, nil, Options{Normalizer: mustRegion(b, "GB")})
		if err != nil {
			b.Fatal(err)
		}
		type count struct{ same, different int }
		patterns := map[uint64]*count{}
		for i := range set.ev {
			for j := i + 1; j < len(set.ev); j++ {
				p := m.compare(m.recs[i], m.recs[j], false)
				c := patterns[p.v.pack()]
				if c == nil {
					c = &count{}
					patterns[p.v.pack()] = c
				}
				if set.person[i] == set.person[j] {
					c.same++
				} else {
					c.different++
				}
			}
		}
		tp, fp, fn := 0, 0, 0
		for _, c := range patterns {
			if c.same > c.different {
				tp, fp = tp+c.same, fp+c.different
			} else {
				fn += c.same
			}
		}
		p, r := ratioOf(tp, tp+fp), ratioOf(tp, tp+fn)
		b.ReportMetric(p, "precision")
		b.ReportMetric(r, "recall")
		b.ReportMetric(2*p*r/(p+r), "F1")
	}
}
