package match

import (
	"context"
	"testing"
	"time"
)

func TestPhases(t *testing.T) {
	ev := benchWorld(100_000)
	t0 := time.Now()
	m, pairs, _ := newMatcher(context.Background(), ev, Options{Normalizer: de(t)})
	t1 := time.Now()
	j, p, _ := m.judgeAll(context.Background(), pairs)
	t2 := time.Now()
	m.union(j, p, nil)
	t3 := time.Now()
	t.Logf("prep+cand %v judge %v union %v; pairs %d joins %d possible %d shared %d", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), len(pairs), len(j), len(p), len(m.shared))
}
