package match

import (
	"slices"
	"testing"
)

func TestDbgBlocking(t *testing.T) {
	set := loadFebrl(t, "febrl3", "dataset3.csv")
	_, _, m := measure(t, set)
	_, _, pairs, _ := cluster(t.Context(), set.ev, nil, Options{Normalizer: de(t)})
	_ = m
	by := map[int][]int{}
	for i, p := range set.person {
		by[p] = append(by[p], i)
	}
	n := 0
	for _, is := range by {
		for x := 0; x < len(is); x++ {
			for y := x + 1; y < len(is); y++ {
				a, b := is[x], is[y]
				if _, ok := slices.BinarySearch(pairs, uint64(a)<<32|uint64(b)); !ok && n < 40 {
					n++
					t.Logf("not blocked:\n  %s\n  %s", brief(set.ev[a]), brief(set.ev[b]))
				}
			}
		}
	}
}
