package match

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSampleOf checks the records u's pairs are drawn from in a large
// book: k distinct indexes in range, ascending, every index as likely as
// any other; all of them in a small book.
func TestSampleOf(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{5, 8}, {8, 8}, {9, 8}, {100_000, 8192}} {
		got := sampleOf(rand.New(rand.NewPCG(1, 2)), tc.n, tc.k)
		if want := min(tc.n, tc.k); len(got) != want {
			t.Fatalf("n=%d k=%d: %d indexes, want %d", tc.n, tc.k, len(got), want)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("n=%d k=%d: not distinct and ascending: %v", tc.n, tc.k, got[:min(len(got), 10)])
		}
		if got[0] < 0 || int(got[len(got)-1]) >= tc.n {
			t.Errorf("n=%d k=%d: out of range: %d..%d", tc.n, tc.k, got[0], got[len(got)-1])
		}
	}
	// Uniform: over many draws of 3 of 10, each index comes ~30% of the time.
	rng := rand.New(rand.NewPCG(3, 4))
	var seen [10]int
	const draws = 20_000
	for range draws {
		for _, i := range sampleOf(rng, 10, 3) {
			seen[i]++
		}
	}
	for i, c := range seen {
		if f := float64(c) / draws; f < 0.28 || f > 0.32 {
			t.Errorf("index %d drawn %.3f of the time, want 0.30", i, f)
		}
	}
}

// TestTFOfMatchesCompare: the term-frequency pass takes a pair's
// adjustments from tfOf, which reads the names' levels from the first
// comparison; they must be those compare finds with term frequencies, on
// every candidate pair of a generated book.
func TestTFOfMatchesCompare(t *testing.T) {
	_, m, pairs := candidatePairs(t, benchWorld(20_000))
	for _, p := range pairs {
		a, b := unpair(p)
		ra, rb := m.recs[a], m.recs[b]
		m.noTF = true
		first := m.compare(ra, rb, false)
		m.noTF = false
		want := m.compare(ra, rb, false).tf
		if got := m.tfOf(ra, rb, first.v.pack()); got != want {
			t.Fatalf("tfOf(%q, %q) = %v, compare finds %v", m.ev[a].FN, m.ev[b].FN, got, want)
		}
	}
}
