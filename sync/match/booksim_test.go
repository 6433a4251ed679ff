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

// booksimGoals turns on TestBooksim's assertions. Off: the model does not
// reach them yet on these books (F1 about 0.66; households and fathers and
// sons merged, blocking recall 0.89), see the README.
const booksimGoals = false

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
						if p, o := set.person[g.Members[x]], set.person[g.Members[y]]; p != o {
							wrong[b.Relation(p, o)]++
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
			if !booksimGoals {
				return
			}
			if q.f1 < 0.99 {
				t.Errorf("F1 %.4f, want >= 0.99", q.f1)
			}
			for _, k := range []string{"father and son", "company namesakes", "household", "namesakes"} {
				if wrong[k] > 0 {
					t.Errorf("%d wrong pairs of %s", wrong[k], k)
				}
			}
			if q.blockRecall < 0.995 {
				t.Errorf("blocking recall %.4f, want >= 0.995", q.blockRecall)
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
