package match

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// spreadItem is an entry of a spread test: its bucket, and where it came
// from, so that a test sees the order within a bucket.
type spreadItem struct{ b, part, i int }

// checkSpread fails t unless spread(parts, buckets) returns the entries
// of parts in the order of a stable sort by bucket, with bounds[b] where
// bucket b starts.
func checkSpread(t *testing.T, parts [][]spreadItem, buckets int) {
	t.Helper()
	got, bounds := spread(parts, buckets, func(x spreadItem) int { return x.b })
	want := slices.Concat(parts...)
	slices.SortStableFunc(want, func(x, y spreadItem) int { return cmp.Compare(x.b, y.b) })
	if len(got) != len(want) || !slices.Equal(got, want) {
		t.Fatalf("spread(%v, %d) = %v, want %v", parts, buckets, got, want)
	}
	if len(bounds) != buckets+1 || bounds[0] != 0 || int(bounds[buckets]) != len(want) {
		t.Fatalf("spread(%v, %d): bounds %v, want %d of them from 0 to %d", parts, buckets, bounds, buckets+1, len(want))
	}
	for b := range buckets {
		for _, x := range got[bounds[b]:bounds[b+1]] {
			if x.b != b {
				t.Fatalf("spread(%v, %d): %v within the bounds of bucket %d", parts, buckets, x, b)
			}
		}
	}
}

// items makes a part of a spread test from the buckets of its entries.
func items(part int, bs ...int) []spreadItem {
	xs := make([]spreadItem, len(bs))
	for i, b := range bs {
		xs[i] = spreadItem{b, part, i}
	}
	return xs
}

// TestSpread: spread keeps the order of a stable sort by bucket, parts
// in order, for empty parts, one bucket and all entries in one bucket.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		name    string
		parts   [][]spreadItem
		buckets int
	}{
		{"no parts", nil, 4},
		{"empty parts", [][]spreadItem{nil, {}, nil}, 3},
		{"one part", [][]spreadItem{items(0, 3, 1, 1, 0, 3, 2, 1)}, 4},
		{"stable across parts", [][]spreadItem{items(0, 1, 0, 1), items(1, 0, 1, 0), items(2, 1, 1)}, 2},
		{"an empty part between", [][]spreadItem{items(0, 2, 0), nil, items(2, 0, 2)}, 3},
		{"one bucket", [][]spreadItem{items(0, 0, 0, 0), items(1, 0, 0)}, 1},
		{"all in one bucket", [][]spreadItem{items(0, 5, 5), items(1, 5), items(2, 5, 5, 5)}, 8},
		{"empty buckets", [][]spreadItem{items(0, 7, 0), items(1, 7, 3)}, 9},
	} {
		t.Run(c.name, func(t *testing.T) { checkSpread(t, c.parts, c.buckets) })
	}
}

// FuzzSpread checks spread against a stable sort by bucket. data holds
// the entries' buckets (mod buckets), cut into parts where cuts say.
func FuzzSpread(f *testing.F) {
	f.Add(uint8(4), []byte{2, 2, 5}, []byte{3, 1, 0, 1, 2, 3, 0})
	f.Add(uint8(1), []byte{}, []byte{0, 0, 0})
	f.Add(uint8(200), []byte{0, 9, 1}, []byte("the entries of many buckets"))
	f.Fuzz(func(t *testing.T, buckets uint8, cuts, data []byte) {
		if buckets == 0 || len(cuts) > 64 {
			return
		}
		at := []int{0}
		for _, c := range cuts {
			at = append(at, int(c)%(len(data)+1))
		}
		slices.Sort(at)
		at = append(at, len(data))
		parts := make([][]spreadItem, len(at)-1)
		for p := range parts {
			for i, d := range data[at[p]:at[p+1]] {
				parts[p] = append(parts[p], spreadItem{int(d) % int(buckets), p, i})
			}
		}
		checkSpread(t, parts, int(buckets))
	})
}

// TestSortPairs: sortPairs returns what sorting the parts' pairs together
// returns, duplicates kept, the pairs with idFlag last, for any number of
// parts and records.
func TestSortPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, recs := range []int{1, 2, 7, 1000, 100_000, 1 << 24} {
		for _, n := range []int{0, 1, 50, 5000, 200_000} {
			parts := make([][]uint64, 1+rng.IntN(4))
			var seen []uint64
			for range n {
				p := rng.Uint64N(uint64(recs) << 32)
				switch rng.IntN(4) {
				case 0:
					p |= idFlag
				case 1:
					if len(seen) > 0 {
						p = seen[rng.IntN(len(seen))] // a duplicate
					}
				}
				seen = append(seen, p)
				w := rng.IntN(len(parts))
				parts[w] = append(parts[w], p)
			}
			want := slices.Concat(parts...)
			slices.Sort(want)
			got, err := sortPairs(context.Background(), parts, recs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("sortPairs of %d pairs of %d records in %d parts: not what sorting them gives", n, recs, len(parts))
			}
		}
	}
}
