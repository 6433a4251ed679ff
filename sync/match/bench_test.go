package match

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/metrics"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"kith/sync/match/groundtruth"
)

var bench1M = flag.Bool("bench1m", false, "also run BenchmarkCluster at 1M records (several GB, minutes)")

// BenchmarkCluster clusters generated worlds of 10k, 100k and (with
// -bench1m) 1M records. Besides time and allocations per op it reports the
// CPU time per op (cpu-s/op, meaningful when the machine is busy with other
// work), the peak live heap during Cluster (peak-MB), records/s, the
// candidate pairs compared and those the partner budget dropped
// (Result.Blocking: pairs, dropped-pairs) and the CPU and wall time of
// each phase (prepare, blocking, usample, compare, em, tfpass, grouping:
// cpu-s-PHASE/op, s-PHASE/op; the u sample and the term frequencies are
// made beside blocking, so usample is only what is left of that work
// after blocking, and blocking's CPU time includes theirs).
//
//	go test ./sync/match -run '^$' -bench Cluster -benchtime 3x [-args -bench1m]
func BenchmarkCluster(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if *bench1M {
		sizes = append(sizes, 1_000_000)
	}
	nz := de(b)
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ev := benchWorld(n)
			runtime.GC()
			base := heapBytes()
			peak := newPeakHeap()
			phases, walls := map[string]time.Duration{}, map[string]time.Duration{}
			var last time.Duration
			var lastWall time.Time
			opts := Options{Normalizer: nz, phase: func(name string) {
				now, wall := cpuTime(), time.Now()
				if name != "" {
					phases[name] += now - last
					walls[name] += wall.Sub(lastWall)
				}
				last, lastWall = now, wall
			}}
			cpu0 := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			var res Result
			for b.Loop() {
				var err error
				if res, err = Cluster(context.Background(), ev, nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			max := peak.stop()
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(max-min(max, base))/1e6, "peak-MB")
			b.ReportMetric(float64(len(ev))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(res.Blocking.Pairs), "pairs")
			b.ReportMetric(float64(res.Blocking.Dropped), "dropped-pairs")
			for name, d := range phases {
				b.ReportMetric(d.Seconds()/float64(b.N), "cpu-s-"+name+"/op")
				b.ReportMetric(walls[name].Seconds()/float64(b.N), "s-"+name+"/op")
			}
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeap samples the heap every few milliseconds until stopped.
type peakHeap struct {
	done chan struct{}
	wg   gosync.WaitGroup
	max  uint64
}

func newPeakHeap() *peakHeap {
	p := &peakHeap{done: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > p.max {
				p.max = h
			}
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	})
	return p
}

func (p *peakHeap) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}
