package match

import (
	"context"
	"runtime"
	"strings"
	gosync "sync"
)

// Comparing a candidate pair reads two records, and a record's values are
// a few dozen strings and small slices: scattered over the heap, comparing
// is mostly waiting for memory. prepare puts a batch's slices in shared
// arrays in record order (see batch); compact moves the batch's strings
// into one backing array in record order, so one record's values sit side
// by side.

// compactBatch is how many records share their backing arrays.
const compactBatch = 1024

// compact moves the strings of recs into one backing array.
func compact(recs []rec) {
	size := 0
	for i := range recs {
		recs[i].eachString(func(s *string) { size += len(*s) })
	}
	var b strings.Builder
	b.Grow(size)
	for i := range recs {
		recs[i].eachString(func(s *string) { b.WriteString(*s) })
	}
	all, at := b.String(), 0
	for i := range recs {
		recs[i].eachString(func(s *string) {
			n := len(*s)
			*s = all[at : at+n]
			at += n
		})
	}
}

// eachString calls f with every string of r that comparisons read.
func (r *rec) eachString(f func(*string)) {
	n := &r.nm
	f(&n.middle)
	f(&n.family)
	f(&n.suffix)
	f(&n.org)
	for i := range n.gf {
		n.gf[i].eachString(f)
	}
	n.ff.eachString(f)
	for i := range r.emails {
		e := &r.emails[i]
		f(&e.full)
		f(&e.local)
		f(&e.domain)
		f(&e.ocr)
		f(&e.ocrDomain)
	}
	for i := range r.phones {
		f(&r.phones[i].e164)
	}
	f(&r.org)
	f(&r.title)
	for i := range r.addrs {
		f(&r.addrs[i])
	}
	for i := range r.post {
		a := &r.post[i]
		f(&a.ext)
		f(&a.number)
		f(&a.street)
		f(&a.locality)
		f(&a.region)
		f(&a.postcode)
	}
}

func (fm *form) eachString(f func(*string)) {
	f(&fm.s)
	f(&fm.flat)
	f(&fm.ocr)
	f(&fm.first)
}

// nameOrder returns the indexes of ev ordered by the first letters of
// family and given name (a rough, cheap order: it decides only where
// records sit in memory).
func nameOrder(ev []Evidence) []int32 {
	keys := make([]uint64, len(ev))
	for i := range ev {
		var k uint64
		n := 0
		for _, s := range [...]string{ev[i].Family, " ", ev[i].Given, " ", ev[i].FN} {
			for j := 0; j < len(s) && n < 8; j++ {
				c := s[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				k = k<<8 | uint64(c)
				n++
			}
		}
		keys[i] = k << (8 * (8 - n))
	}
	return orderBy(keys)
}

// localOrder returns 0..n-1 ordered by where the records of pair k sit in
// memory (the first, then the second): comparing pairs in this order
// reads the records nearly in sequence. pair returns pair k's records.
func (m *matcher) localOrder(n int, pair func(k int) (a, b int32)) []int32 {
	keys := make([]uint64, n)
	for k := range keys {
		a, b := pair(k)
		pa, pb := m.pos[a], m.pos[b]
		if pa > pb {
			pa, pb = pb, pa
		}
		keys[k] = uint64(pa)<<32 | uint64(pb)
	}
	return orderBy(keys)
}

// orderBy returns the indexes of keys in ascending order of their keys;
// equal keys keep their index order.
func orderBy(keys []uint64) []int32 {
	type keyed struct {
		k uint64
		i int32
	}
	ks := make([]keyed, len(keys))
	for i, k := range keys {
		ks[i] = keyed{k, int32(i)}
	}
	radixSort(ks, func(x keyed) uint64 { return x.k })
	order := make([]int32, len(keys))
	for i, x := range ks {
		order[i] = x.i
	}
	return order
}

// parallelBatches runs f on consecutive batches [lo, hi) of 0..n-1 of at
// most size, on all CPUs, each CPU taking a contiguous run of batches.
func parallelBatches(ctx context.Context, n, size int, f func(lo, hi int)) error {
	batches := (n + size - 1) / size
	workers := min(runtime.GOMAXPROCS(0), max(batches, 1))
	per := (batches + workers - 1) / max(workers, 1)
	var wg gosync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w * per; k < min((w+1)*per, batches); k++ {
				if ctx.Err() != nil {
					return
				}
				f(k*size, min((k+1)*size, n))
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
