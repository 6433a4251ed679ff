package calendar

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kith/sync/normalize"
)

func testExtractor(t testing.TB) *extractor {
	norm, err := normalize.New("")
	if err != nil {
		t.Fatal(err)
	}
	return &extractor{
		source:       "fuzz",
		user:         map[string]bool{"me@example.org": true},
		maxAttendees: DefaultMaxAttendees,
		loc:          berlin(t),
		since:        time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		now:          now,
		norm:         norm,
		log:          slog.New(slog.DiscardHandler),
		seen:         map[string]bool{},
	}
}

// FuzzParse feeds arbitrary bytes through decoding, zone resolution,
// recurrence expansion and attendee rules.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/ics/*.ics")
	sub, _ := filepath.Glob("testdata/ics/*/*.ics")
	for _, p := range append(files, sub...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20200101T000000Z\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\nORGANIZER:mailto:me@example.org\nATTENDEE:mailto:a@b.c\nEND:VEVENT\nEND:VCALENDAR\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cals, err := decodeAll(data, DefaultLimits)
		if err != nil {
			return
		}
		x := testExtractor(t)
		for _, c := range cals {
			x.calendar(c, "fuzz")
		}
		for _, it := range x.out {
			if it.Date.Location() != time.UTC || it.Date.Hour() != 0 || it.Date.Minute() != 0 {
				t.Fatalf("date %v not a UTC midnight", it.Date)
			}
			if it.Date.Before(x.since) || it.Date.After(now) {
				t.Fatalf("date %v outside [since, now]", it.Date)
			}
			if len(it.Who) == 0 || it.People < len(it.Who) || it.People+1 > x.maxAttendees {
				t.Fatalf("people %d who %v", it.People, it.Who)
			}
		}
	})
}

func TestZones(t *testing.T) {
	cal, err := decodeAll([]byte("BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Custom\nBEGIN:DAYLIGHT\nTZOFFSETTO:+0300\nEND:DAYLIGHT\nBEGIN:STANDARD\nTZOFFSETTO:-0530\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	z := newZones(cal[0].Component, berlin(t))
	jan := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		tzid   string
		offset int // seconds east of UTC on 15 January 2026
	}{
		{"America/New_York", -5 * 3600},
		{"/mozilla.org/20050126_1/Asia/Tokyo", 9 * 3600},
		{"Pacific Standard Time", -8 * 3600},
		{"W. Europe Standard Time", 3600},
		{"Custom", -(5*3600 + 30*60)},
		{"Unknown/Nowhere", 3600}, // floating: Berlin
		{"Local", 3600},
		{"../../etc/passwd", 3600},
	} {
		t.Run(tt.tzid, func(t *testing.T) {
			_, off := jan.In(z.location(tt.tzid)).Zone()
			if off != tt.offset {
				t.Errorf("offset %d, want %d", off, tt.offset)
			}
		})
	}
}

func BenchmarkImpossibleRule(b *testing.B) {
	cals, err := decodeAll([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20200101T000000Z\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\nORGANIZER:mailto:me@example.org\nATTENDEE:mailto:a@b.c\nEND:VEVENT\nEND:VCALENDAR\n"), DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		x := testExtractor(b)
		x.calendar(cals[0], "bench")
	}
}
