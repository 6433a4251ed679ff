package match

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"kith/sync/match/groundtruth"
)

var benchHuge = flag.Bool("bench1m", false, "also run BenchmarkCluster at 1M records (needs ~4 GB)")

// BenchmarkCluster clusters generated worlds of 10k, 100k and (with
// -bench1m) 1M records. Time per op is the whole Cluster call; B/op is the
// memory it allocates; records/s is reported too.
func BenchmarkCluster(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if *benchHuge {
		sizes = append(sizes, 1_000_000)
	}
	nz := de(b)
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ev := benchWorld(n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Cluster(context.Background(), ev, nil, Options{Normalizer: nz}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(ev))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchWorld returns the evidence of a generated world of about n records.
func benchWorld(n int) []Evidence {
	w := groundtruth.Generate(groundtruth.Config{Seed: 42, People: n * 10 / 19})
	ev := evidenceOf(&w)
	if len(ev) > n {
		ev = ev[:n]
	}
	return ev
}
