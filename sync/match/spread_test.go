package match

import (
	"cmp"
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
