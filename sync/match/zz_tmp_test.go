package match

import (
	"context"
	"testing"
	"time"
)

func TestTmpPhases(t *testing.T) {
	ev := benchWorld(100_000)
	nz := de(t)
	for k := 0; k < 3; k++ {
		t0 := time.Now()
		m := &matcher{ev: ev, recs: make([]rec, len(ev))}
		parallel(context.Background(), len(ev), func(i int) { m.recs[i] = prepare(&ev[i], nz) })
		m.anyScanned = true
		t1 := time.Now()
		var entries []keyEntry
		var buf []keyEntry
		for i := range m.recs {
			buf = m.keys(i, buf[:0])
			entries = append(entries, buf...)
		}
		t2 := time.Now()
		pairs, _ := m.candidates(context.Background())
		t3 := time.Now()
		t.Logf("prepare %v keys %v candidates(all) %v; entries %d pairs %d", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), len(entries), len(pairs))
	}
}

func BenchmarkTmpPrepare(b *testing.B) {
	ev := benchWorld(20_000)
	nz := de(b)
	b.ResetTimer()
	for b.Loop() {
		for i := range ev {
			prepare(&ev[i], nz)
		}
	}
}
