package match

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kith/sync/match/groundtruth"
	"kith/sync/normalize"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// qualitySeeds are the fixed worlds quality is measured on.
var qualitySeeds = []uint64{1, 2, 3}

const qualityPeople = 3000

func evidenceOf(w *groundtruth.World) []Evidence {
	ev := make([]Evidence, len(w.Records))
	for i, r := range w.Records {
		ev[i] = FromCard(r.Key, r.Card, r.Scanned)
	}
	return ev
}

func kithGroups(t testing.TB, ev []Evidence, nz *normalize.Normalizer) ([][]int, Result) {
	res, err := Cluster(context.Background(), ev, nil, Options{Normalizer: nz})
	if err != nil {
		t.Fatal(err)
	}
	groups := make([][]int, len(res.Groups))
	for i, g := range res.Groups {
		groups[i] = g.Members
	}
	return groups, res
}

// TestQuality asserts pairwise precision and recall on generated worlds, and
// that no two people who share a household, an employer or a name are merged.
func TestQuality(t *testing.T) {
	nz := de(t)
	for _, seed := range qualitySeeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := groundtruth.Generate(groundtruth.Config{Seed: seed, People: qualityPeople})
			ev := evidenceOf(&w)
			groups, res := kithGroups(t, ev, nz)
			m := w.Score(groups)
			t.Logf("%d records: %s", len(ev), m.Row("kith"))
			if m.F1 < 0.99 {
				t.Errorf("F1 = %.4f, want >= 0.99 (precision %.4f, recall %.4f)", m.F1, m.Precision, m.Recall)
			}
			for _, k := range []string{"household", "company", "name"} {
				if m.WrongMerges[k] > 0 {
					t.Errorf("%d wrong merges of people sharing a %s", m.WrongMerges[k], k)
				}
			}
			if t.Failed() {
				for _, ex := range m.Examples {
					t.Log("wrong:", ex)
				}
				logWrong(t, &w, res, 10)
				logMissed(t, &w, ev, res, 15)
			}
		})
	}
}

// logMissed logs pairs of records of one person that ended in different
// groups, with what the matcher thinks of the pair.
func logMissed(t *testing.T, w *groundtruth.World, ev []Evidence, res Result, limit int) {
	groupOf := make([]int, len(ev))
	for gi, g := range res.Groups {
		for _, i := range g.Members {
			groupOf[i] = gi
		}
	}
	_, m, pairs, err := cluster(context.Background(), ev, nil, Options{Normalizer: de(t)})
	if err != nil {
		t.Fatal(err)
	}
	first := map[int]int{}
	n := 0
	for i, r := range w.Records {
		j, ok := first[r.Person]
		if !ok {
			first[r.Person] = i
			continue
		}
		if groupOf[i] != groupOf[j] && n < limit {
			n++
			score, why, _ := m.fsJudge(int32(j), int32(i))
			_, cand := slices.BinarySearch(pairs, uint64(j)<<32|uint64(i))
			t.Logf("missed: %s %s\n     vs %s %s\n     candidate %v %.2f %s\n     groups: %q\n      and %q",
				w.Records[j].Kind, brief(ev[j]), w.Records[i].Kind, brief(ev[i]), cand, score, why,
				res.Groups[groupOf[j]].Reasons, res.Groups[groupOf[i]].Reasons)
		}
	}
}

// logWrong logs the reasons of groups that hold different people.
func logWrong(t *testing.T, w *groundtruth.World, res Result, limit int) {
	n := 0
	for _, g := range res.Groups {
		people := map[int]bool{}
		for _, i := range g.Members {
			people[w.Records[i].Person] = true
		}
		if len(people) > 1 && n < limit {
			n++
			t.Logf("wrong group: %q", g.Reasons)
			for _, i := range g.Members {
				t.Logf("    %d %s %s", w.Records[i].Person, w.Records[i].Kind, brief(evidenceOf(w)[i]))
			}
		}
	}
}

// TestQualityTable writes the README's table of pairwise precision, recall
// and F1 for kith and the naive baselines to testdata/quality.md, and fails
// when it changed (run with -update to accept).
func TestQualityTable(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	nz := de(t)
	var b strings.Builder
	fmt.Fprintf(&b, "Pairwise clustering quality on generated worlds (seeds %v, %d people each), records pooled.\n\n", qualitySeeds, qualityPeople)
	b.WriteString(groundtruth.TableHeader + "\n")
	type row struct {
		label string
		f     func(ev []Evidence) [][]int
	}
	rows := []row{
		{"kith", func(ev []Evidence) [][]int { g, _ := kithGroups(t, ev, nz); return g }},
		{"kith's former rule cascade", func(ev []Evidence) [][]int {
			res, err := Cluster(context.Background(), ev, nil, Options{Normalizer: nz, RuleCascade: true})
			if err != nil {
				t.Fatal(err)
			}
			var g [][]int
			for _, x := range res.Groups {
				g = append(g, x.Members)
			}
			return g
		}},
		{"email only", func(ev []Evidence) [][]int { return baseline(ev, nz, true, false, false) }},
		{"name only", func(ev []Evidence) [][]int { return baseline(ev, nz, false, false, true) }},
		{"email or phone", func(ev []Evidence) [][]int { return baseline(ev, nz, true, true, false) }},
	}
	var worlds []groundtruth.World
	var evs [][]Evidence
	records := 0
	for _, seed := range qualitySeeds {
		w := groundtruth.Generate(groundtruth.Config{Seed: seed, People: qualityPeople})
		worlds = append(worlds, w)
		evs = append(evs, evidenceOf(&w))
		records += len(w.Records)
	}
	for _, r := range rows {
		var sum groundtruth.Metrics
		sum.WrongMerges = map[string]int{}
		for i := range worlds {
			m := worlds[i].Score(r.f(evs[i]))
			sum.TruePairs += m.TruePairs
			sum.PredictedPairs += m.PredictedPairs
			sum.Correct += m.Correct
			for k, v := range m.WrongMerges {
				sum.WrongMerges[k] += v
			}
		}
		sum.Precision = float64(sum.Correct) / float64(max(1, sum.PredictedPairs))
		sum.Recall = float64(sum.Correct) / float64(max(1, sum.TruePairs))
		if sum.Precision+sum.Recall > 0 {
			sum.F1 = 2 * sum.Precision * sum.Recall / (sum.Precision + sum.Recall)
		}
		b.WriteString(sum.Row(r.label) + "\n")
	}
	fmt.Fprintf(&b, "\n%d records in all.\n", records)
	got := b.String()
	t.Log("\n" + got)
	golden := filepath.Join("testdata", "quality.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestQualityTable -update)", err)
	}
	if string(want) != got {
		t.Errorf("quality table changed; run with -update to accept:\n%s", got)
	}
}

// baseline clusters the naive ways: records that share a normalised email
// (byEmail), an E.164 phone (byPhone), or a folded full name (byName).
func baseline(ev []Evidence, nz *normalize.Normalizer, byEmail, byPhone, byName bool) [][]int {
	parent := make([]int, len(ev))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	owner := map[string]int{}
	link := func(key string, i int) {
		if j, ok := owner[key]; ok {
			parent[find(i)] = find(j)
		} else {
			owner[key] = i
		}
	}
	for i := range ev {
		if byEmail {
			for _, e := range ev[i].Emails {
				if n := nz.Email(e); n != "" {
					link("e:"+n, i)
				}
			}
		}
		if byPhone {
			for _, p := range ev[i].Phones {
				if n, _ := nz.Phone(p.Number); n != "" {
					link("p:"+n, i)
				}
			}
		}
		if byName {
			n := ev[i].FN
			if n == "" {
				n = ev[i].Given + " " + ev[i].Family
			}
			if n = normalize.Fold(n); n != "" {
				link("n:"+n, i)
			}
		}
	}
	idx := map[int]int{}
	var groups [][]int
	for i := range ev {
		r := find(i)
		g, ok := idx[r]
		if !ok {
			g = len(groups)
			idx[r] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}
