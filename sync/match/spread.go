package match

import (
	"context"
	gosync "sync"
)

// spread returns the entries of parts grouped by bucket: out[bounds[b]:
// bounds[b+1]] holds the entries x with bucket(x) == b, those of parts[0]
// first, then those of parts[1], and so on, each part's in its own order
// (len(bounds) is buckets+1). bucket must return 0..buckets-1. Each part
// is counted and scattered on a goroutine of its own, so parts made on
// all CPUs (a run a CPU) are spread on all CPUs; sorting each bucket then
// sorts the whole (sortSpread).
func spread[T any](parts [][]T, buckets int, bucket func(T) int) (out []T, bounds []int32) {
	// at[w][b] is where part w's next entry of bucket b goes.
	at := make([][]int32, len(parts))
	var wg gosync.WaitGroup
	for w := range parts {
		wg.Go(func() {
			at[w] = make([]int32, buckets)
			for _, x := range parts[w] {
				at[w][bucket(x)]++
			}
		})
	}
	wg.Wait()
	bounds = make([]int32, buckets+1)
	var n int32
	for b := range buckets {
		bounds[b] = n
		for w := range parts {
			n, at[w][b] = n+at[w][b], n
		}
	}
	bounds[buckets] = n
	out = make([]T, n)
	for w := range parts {
		wg.Go(func() {
			next := at[w]
			for _, x := range parts[w] {
				b := bucket(x)
				out[next[b]] = x
				next[b]++
			}
		})
	}
	wg.Wait()
	return out, bounds
}

// sortSpread returns the entries of parts in one sorted slice: spread
// into buckets (bucket must not decrease along the order sought), then
// each bucket sorted by sortBucket, on all CPUs.
func sortSpread[T any](ctx context.Context, parts [][]T, buckets int, bucket func(T) int, sortBucket func([]T)) ([]T, error) {
	out, bounds := spread(parts, buckets, bucket)
	if err := parallelBatches(ctx, buckets, 4096, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			sortBucket(out[bounds[b]:bounds[b+1]])
		}
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// lenAll returns the number of entries of parts.
func lenAll[T any](parts [][]T) int {
	n := 0
	for _, part := range parts {
		n += len(part)
	}
	return n
}
