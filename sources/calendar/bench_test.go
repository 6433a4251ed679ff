package calendar

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ksync "kith/sync"
)

// BenchmarkNoChange compares what a sync in which no calendar changed
// costs: "whole" reads and parses every .ics file (as before cursors);
// "update" stats them, all a sync in which nothing changed does; "load"
// decodes the stored interactions, which a sync that goes on adds. 200
// files of 50 events each (10,000 events, some weekly).
func BenchmarkNoChange(b *testing.B) {
	dir := b.TempDir()
	for f := range 200 {
		var ics strings.Builder
		ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//bench//EN\r\n")
		for e := range 50 {
			fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:ev-%d-%d@example.org\r\nDTSTAMP:20260101T090000Z\r\n"+
				"DTSTART:2026%02d%02dT100000Z\r\nDTEND:2026%02d%02dT110000Z\r\nSUMMARY:Meeting %d\r\n",
				f, e, 1+e%11, 1+f%28, 1+e%11, 1+f%28, e)
			if e%10 == 0 {
				ics.WriteString("RRULE:FREQ=WEEKLY;COUNT=20\r\n")
			}
			fmt.Fprintf(&ics, "ORGANIZER:mailto:me@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.org\r\n"+
				"ATTENDEE;PARTSTAT=ACCEPTED:mailto:p%d.%d@example.com\r\nEND:VEVENT\r\n", f, e)
		}
		ics.WriteString("END:VCALENDAR\r\n")
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cal%03d.ics", f)), []byte(ics.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	s, _ := newTestSource(b, Options{Paths: []string{dir}})
	ctx := context.Background()
	b.Run("whole", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Interactions(ctx, since); err != nil {
				b.Fatal(err)
			}
		}
	})
	store := &ksync.MemItems{}
	if _, err := s.Update(ctx, store); err != nil {
		b.Fatal(err)
	}
	b.Run("update", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Update(ctx, store); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Load(ctx, store, since); err != nil {
				b.Fatal(err)
			}
		}
	})
}
