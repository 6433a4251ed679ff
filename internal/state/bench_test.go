package state

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// benchCard is a card the size of internal/benchgen's (about 400 bytes).
func benchCard(i int, note string) vcard.Card {
	text := strings.Join([]string{
		"BEGIN:VCARD", "VERSION:3.0", fmt.Sprintf("UID:card-%06d", i),
		fmt.Sprintf("FN:Ada Lovelace %d", i), "N:Lovelace;Ada;;;",
		fmt.Sprintf("EMAIL;TYPE=INTERNET:ada.lovelace.%d@example.org", i),
		fmt.Sprintf("TEL;TYPE=CELL:+44 7700 9%05d", i%100000),
		fmt.Sprintf("ADR;TYPE=HOME:;;%d High Street;Town %d;;AB%d 1CD;UK", i%200, i%50, i%99),
		"ORG:Example Ltd", "NOTE:" + note,
		"REV:20260612T120000Z", "END:VCARD", "",
	}, "\r\n")
	c, err := card.Decode([]byte(text))
	if err != nil {
		panic(err)
	}
	return c
}

// benchCursor is a vdir source's cursor over n files (internal/dirscan's
// shape: each file's stamp and record IDs, about 95 bytes a file), in which
// the files below touched have a new stamp.
func benchCursor(n, touched int, stamp string) string {
	type file struct {
		Stamp string   `json:"s"`
		IDs   []string `json:"ids"`
	}
	files := make(map[string]file, n)
	for i := range n {
		name := fmt.Sprintf("card-%06d.vcf", i)
		st := fmt.Sprintf("1764000000%06d;%d;%d;1764000000%06d", i, 400+i%97, 1000000+i, i)
		if i < touched {
			st = stamp
		}
		files[name] = file{Stamp: st, IDs: []string{name}}
	}
	b, err := json.Marshal(struct {
		V     int             `json:"v"`
		Files map[string]file `json:"files"`
	}{2, files})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// benchPossible is the merge's list of possible duplicates for n
// contacts (one pair in fifty), as State.Meta keeps it; the first pair's
// score is score.
func benchPossible(n int, score float64) string {
	var ps []ksync.PossibleDuplicate
	for i := 0; i+1 < n; i += 50 {
		ps = append(ps, ksync.PossibleDuplicate{A: fmt.Sprintf("kith-%06d", i), B: fmt.Sprintf("kith-%06d", i+1),
			Score: 0.5 + float64(i%40)/100, Reason: "same family name, similar given name; email differs (-3.2)"})
	}
	ps[0].Score = score
	b, err := json.Marshal(ps)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// benchState is a state of n records, one contact each, every contact's
// card on one target, two interactions each, the source's cursor and the
// merge's possible duplicates: what a first run of a book of n cards
// saves.
func benchState(n int) *ksync.State {
	st := ksync.NewState()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	st.Targets["people"] = map[string]*ksync.TargetEntry{}
	for i := range n {
		uid := fmt.Sprintf("kith-%06d", i)
		c := benchCard(i, "Met at a conference\\, talked about gardens.")
		h := card.Hash(c)
		r := ksync.Record{Source: "book", ID: fmt.Sprintf("card-%06d.vcf", i), Card: c, Hash: h, Seen: now}
		st.Records[r.Key()] = &ksync.StoredRecord{Record: r, UID: uid, FirstSeen: now}
		st.Contacts[uid] = &ksync.StoredContact{UID: uid, Card: c, Hash: h, Created: now, Reasons: []string{}}
		st.Targets["people"][uid+".vcf"] = &ksync.TargetEntry{UID: uid, ETag: fmt.Sprintf(`"%d-1"`, i), Card: c, Hash: h, Base: c, BaseHash: h}
		st.Interactions[uid] = []ksync.Interaction{
			{Date: day.AddDate(0, 0, -i%300), Kind: ksync.KindMeeting, Source: "note", Ref: "line-1", People: 1},
			{Date: day.AddDate(0, 0, -i%200), Kind: ksync.KindMailSent, Source: "work", Ref: fmt.Sprintf("<%d@example.org>", i), People: 1},
		}
	}
	st.Cursors["book"] = benchCursor(n, 0, "")
	st.Meta["merge.fingerprint"] = "f"
	st.Meta[ksync.MetaPossible] = benchPossible(n, 0.5)
	return st
}

// changed returns a copy of st in which k records, their contacts and
// their target entries changed, as after a sync in which k cards were
// edited: the source's cursor moved for those k files, and one possible
// duplicate's score moved.
func changed(st *ksync.State, k int, note string) *ksync.State {
	next := ksync.NewState()
	for key, r := range st.Records {
		next.Records[key] = r
	}
	for uid, c := range st.Contacts {
		next.Contacts[uid] = c
	}
	next.Targets["people"] = map[string]*ksync.TargetEntry{}
	for href, e := range st.Targets["people"] {
		next.Targets["people"][href] = e
	}
	for uid, ins := range st.Interactions {
		next.Interactions[uid] = ins
	}
	for k, v := range st.Cursors {
		next.Cursors[k] = v
	}
	for k, v := range st.Meta {
		next.Meta[k] = v
	}
	for i := range k {
		uid := fmt.Sprintf("kith-%06d", i)
		c := benchCard(i, note)
		h := card.Hash(c)
		key := ksync.RecordKey{Source: "book", ID: fmt.Sprintf("card-%06d.vcf", i)}
		r := *st.Records[key]
		r.Card, r.Hash, r.Raw = c, h, nil
		next.Records[key] = &r
		ct := *st.Contacts[uid]
		ct.Card, ct.Hash = c, h
		next.Contacts[uid] = &ct
		e := *st.Targets["people"][uid+".vcf"]
		e.Card, e.Hash, e.Base, e.BaseHash, e.ETag = c, h, c, h, `"`+note+`"`
		next.Targets["people"][uid+".vcf"] = &e
	}
	next.Cursors["book"] = benchCursor(len(st.Records), k, note)
	next.Meta[ksync.MetaPossible] = benchPossible(len(st.Contacts), float64(crc32.ChecksumIEEE([]byte(note))%1000)/1000)
	return next
}

// BenchmarkSave times Store.Save of a whole state into an empty database
// (a first run) and of a state in which 10 cards changed (a usual sync).
// Besides time, the small save reports the bytes it handed to write(2)
// (written-B/op: the write-ahead log's pages, which the checkpoint after a
// sync writes once more into the database).
func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{20000, 100000} {
		st := benchState(n)
		b.Run(fmt.Sprintf("full/%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, err := Open(ctx, b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				if err := s.Save(ctx, nil, st, Run{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
		})
		b.Run(fmt.Sprintf("small/%d", n), func(b *testing.B) {
			s, err := Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Save(ctx, nil, st, Run{}); err != nil {
				b.Fatal(err)
			}
			a, c := st, changed(st, 10, "first")
			// The garbage of building the states is collected outside the
			// timed save (with 100,000 cards a GC cycle costs more than it).
			runtime.GC()
			var written int64
			for b.Loop() {
				w0 := bytesWritten()
				if err := s.Save(ctx, a, c, Run{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				written += bytesWritten() - w0
				a, c = c, changed(st, 10, fmt.Sprint(time.Now().UnixNano()))
				runtime.GC()
				b.StartTimer()
			}
			if written > 0 {
				b.ReportMetric(float64(written)/float64(b.N), "written-B/op")
			}
		})
	}
}

// bytesWritten returns the bytes the process has handed to write(2) so
// far (/proc/self/io's wchar), or 0 where that is not known.
func bytesWritten() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkCursors times Store.Cursors, the first read of every sync,
// with a vdir source's cursor over 100,000 files and two small ones.
func BenchmarkCursors(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := ksync.NewState()
	st.Cursors["book"] = benchCursor(100000, 0, "")
	st.Cursors["work"], st.Cursors["target:people"] = "token-1", "ctag-1"
	if err := s.Save(ctx, nil, st, Run{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := s.Cursors(ctx)
		if err != nil || len(got["book"]) != len(st.Cursors["book"]) {
			b.Fatal(err)
		}
	}
}
