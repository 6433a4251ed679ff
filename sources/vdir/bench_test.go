package vdir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"

	"kith/sync/card"
)

// BenchmarkTargetFirstRun writes 20,000 new cards into an empty vdir
// target, with as many writes in flight as the engine keeps
// (MaxParallel): what a first run costs on the disk. "one-at-a-time" is
// the same with one write in flight, each paying its own commit (2,000
// cards, it is slow); "plain-files" is the disk's floor, the same cards
// written with os.WriteFile straight to their names, not synced, neither
// atomic nor durable. Compare the per-card figures (ms/card) of one run:
// on a shared virtual disk the floor itself varies several-fold.
func BenchmarkTargetFirstRun(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n, par int
		plain  bool
	}{
		{"parallel", 20000, parallelWrites, false},
		{"plain-files", 20000, parallelWrites, true},
		{"one-at-a-time", 2000, 1, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "out")
				tg, err := NewTarget("bench", dir, card.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if bc.plain {
					if err := os.Mkdir(dir, 0o700); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				sem := make(chan struct{}, bc.par)
				var wg gosync.WaitGroup
				for j := range bc.n {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						uid := fmt.Sprintf("kith-%06d", j)
						c := person(uid, fmt.Sprintf("Person %d", j), [2]string{"EMAIL", fmt.Sprintf("p%d@example.org", j)},
							[2]string{"TEL", fmt.Sprintf("+49 171 %07d", j)}, [2]string{"NOTE", "2026-05-01 met at the fair"})
						if bc.plain {
							if err := os.WriteFile(filepath.Join(dir, uid+".vcf"), card.EncodeBytes(card.ToV3(c)), 0o600); err != nil {
								b.Error(err)
							}
							return
						}
						if _, err := tg.Put(ctx, uid+".vcf", c, ""); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*bc.n), "ms/card")
		})
	}
}

// BenchmarkTargetDelete deletes 2,000 cards from a vdir target, with as
// many deletes in flight as the engine keeps (MaxParallel), and one at a
// time; compare the per-card figure (ms/card).
func BenchmarkTargetDelete(b *testing.B) {
	const n = 2000
	for _, par := range []int{parallelWrites, 1} {
		name := "parallel"
		if par == 1 {
			name = "one-at-a-time"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var syncs int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tg, err := NewTarget("bench", filepath.Join(b.TempDir(), "out"), card.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				tags := make([]string, n)
				var wg gosync.WaitGroup
				sem := make(chan struct{}, parallelWrites)
				for j := range n {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						uid := fmt.Sprintf("kith-%06d", j)
						tag, err := tg.Put(ctx, uid+".vcf", person(uid, fmt.Sprintf("Person %d", j)), "")
						if err != nil {
							b.Error(err)
						}
						tags[j] = tag
					})
				}
				wg.Wait()
				syncs -= tg.dirSyncs.Load()
				b.StartTimer()
				sem = make(chan struct{}, par)
				for j := range n {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						if err := tg.Delete(ctx, fmt.Sprintf("kith-%06d.vcf", j), tags[j]); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				syncs += tg.dirSyncs.Load()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/card")
			b.ReportMetric(float64(syncs)/float64(b.N), "folder-fsyncs/op")
		})
	}
}
