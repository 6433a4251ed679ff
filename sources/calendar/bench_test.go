package calendar

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davtest"
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

// BenchmarkCalDAVNoChange compares a sync in which a CalDAV calendar of
// 5,000 events did not change ("update": one PROPFIND of the getctags)
// with reading it whole ("whole": finding it, its sync token, the
// time-range query and every event parsed; every sync did about that
// before cursors) and with the server's own time for that PROPFIND
// ("floor"), against a real Radicale. The events are written into
// Radicale's storage folder, which it reads as its own.
func BenchmarkCalDAVNoChange(b *testing.B) {
	srv := davtest.StartRadicale(b)
	srv.MakeCalendar(b, srv.Home+"work/", "", "VEVENT")
	dir := filepath.Join(srv.Dir, "collection-root", strings.Trim(srv.Home, "/"), "work")
	for e := range 5000 {
		ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-%d@example.org\r\nDTSTAMP:20260101T090000Z\r\n"+
			"DTSTART:2026%02d%02dT100000Z\r\nDTEND:2026%02d%02dT110000Z\r\nSUMMARY:Meeting %d\r\n",
			e, 1+e%11, 1+e%28, 1+e%11, 1+e%28, e)
		if e%10 == 0 {
			ics += "RRULE:FREQ=WEEKLY;COUNT=20\r\n"
		}
		ics += fmt.Sprintf("ORGANIZER:mailto:me@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.org\r\n"+
			"ATTENDEE;PARTSTAT=ACCEPTED:mailto:p%d@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", e)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("ev-%d.ics", e)), []byte(ics), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	s, _ := newTestSource(b, Options{URL: srv.URL + srv.Home, Username: srv.Username, Password: srv.Password})
	ctx := context.Background()
	store := &ksync.MemItems{}
	if _, err := s.Update(ctx, store); err != nil {
		b.Fatal(err)
	}
	if got, err := s.Load(ctx, store, since); err != nil || len(got) < 5000 {
		b.Fatalf("%d interactions, err %v; want at least 5,000", len(got), err)
	}
	b.Run("whole", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Update(ctx, &ksync.MemItems{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Update(ctx, store); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The floor: the server's own time for the getctag PROPFIND.
	b.Run("floor", func(b *testing.B) {
		body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>`
		for i := 0; i < b.N; i++ {
			if code, _, _ := srv.Do(b, "PROPFIND", srv.Home, http.Header{"Depth": {"1"}}, body); code != http.StatusMultiStatus {
				b.Fatal(code)
			}
		}
	})
}
