package calendar

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
)

var update = flag.Bool("update", false, "rewrite golden files")

// now is the fixed clock of every test: Wednesday 25 November 2026, noon UTC.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var since = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newTestSource(t testing.TB, o Options) (*Source, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	if o.Name == "" {
		o.Name = "cal"
	}
	if o.UserEmails == nil {
		o.UserEmails = []string{"me@example.org", "Me.Too@Example.Org"}
	}
	o.Location = berlin(t)
	o.Now = func() time.Time { return now }
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

// line renders an interaction as one line of a golden file.
func line(it ksync.Interaction) string {
	return fmt.Sprintf("%s %s %s people=%d who=%s", it.Date.Format(time.DateOnly), it.Source, it.Ref, it.People, strings.Join(it.Who, ","))
}

func golden(t *testing.T, name string, got []ksync.Interaction) {
	t.Helper()
	var b strings.Builder
	for _, it := range got {
		b.WriteString(line(it) + "\n")
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("interactions differ from %s (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, b.String(), want)
	}
}

func TestFolderGolden(t *testing.T) {
	s, logs := newTestSource(t, Options{Paths: []string{"testdata/ics"}})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got {
		if it.Kind != ksync.KindEvent || it.Source != "cal" {
			t.Errorf("%s: kind %q source %q", line(it), it.Kind, it.Source)
		}
		if it.Date.Location() != time.UTC || it.Date.Hour() != 0 {
			t.Errorf("%s: date %v is not a UTC midnight", line(it), it.Date)
		}
	}
	golden(t, "folder.golden", got)
	if !strings.Contains(logs.String(), "broken.ics") {
		t.Errorf("the broken file is not named in the logs:\n%s", logs)
	}
}

// TestWhatCounts names, event by event, what a user would check in the
// golden file.
func TestWhatCounts(t *testing.T) {
	s, _ := newTestSource(t, Options{Paths: []string{"testdata/ics"}})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]ksync.Interaction{}
	for _, it := range got {
		if _, dup := byRef[it.Ref]; dup {
			t.Errorf("ref %s twice", it.Ref)
		}
		byRef[it.Ref] = it
	}
	tests := []struct {
		name   string
		ref    string
		counts bool
		date   string // the day, when it counts
		people int
		who    string
	}{
		{"one-to-one in Berlin time", "coffee-alice@example.org/2026-11-20", true, "2026-11-20", 1, "alice@example.com"},
		{"declined by the user", "declined@example.org/2026-11-18", false, "", 0, ""},
		{"cancelled", "cancelled@example.org/2026-11-17", false, "", 0, ""},
		{"eleven invited", "all-hands@example.org/2026-11-16", false, "", 0, ""},
		{"eight invited, a room and a decliner left out", "eight@example.org/2026-11-13", true, "2026-11-13", 6, "g1@example.com,g2@example.com,g3@example.com,g4@example.com,g5@example.com,g7@example.com"},
		{"nobody else", "dentist@example.org/2026-11-12", false, "", 0, ""},
		{"in the future", "future@example.org/2026-12-01", false, "", 0, ""},
		{"before since", "old@example.org/2025-12-01", false, "", 0, ""},
		{"all-day, tentative", "hike@example.org/2026-11-08", true, "2026-11-08", 1, "carol@example.net"},
		{"the user is not invited", "forwarded@example.org/2026-11-07", false, "", 0, ""},
		{"no organizer, floating time", "lunch-frank@example.org/2026-11-06", true, "2026-11-06", 2, "frank@example.com"},
		{"Outlook zone name, not answered yet", "040000008200E00074C5B7101A82E00800000000/2026-11-10", true, "2026-11-10", 1, "grace@example.com"},
		{"zone only in VTIMEZONE", "tokyo@example.org/2026-11-04", true, "2026-11-04", 1, "hiro@example.jp"},
		{"Mozilla zone path", "mozilla@example.org/2026-11-05", true, "2026-11-05", 1, "ivan@example.com"},
		{"second VCALENDAR in a file", "second-calendar-in-file@example.org/2026-11-03", true, "2026-11-03", 1, "judy@example.com"},
		{"trash folder", "trashed@example.org/2026-11-20", false, "", 0, ""},
		{"weekly, first", "weekly-1on1@example.org/2026-10-05", true, "2026-10-05", 1, "kim@example.com"},
		{"weekly, BYDAY Wednesday", "weekly-1on1@example.org/2026-10-07", true, "2026-10-07", 1, "kim@example.com"},
		{"weekly, off week", "weekly-1on1@example.org/2026-10-12", false, "", 0, ""},
		{"weekly, EXDATE", "weekly-1on1@example.org/2026-10-19", false, "", 0, ""},
		{"weekly, second EXDATE in one line", "weekly-1on1@example.org/2026-10-21", false, "", 0, ""},
		{"weekly, moved to Tuesday with a guest", "weekly-1on1@example.org/2026-11-02", true, "2026-11-03", 2, "kim@example.com,lee@example.com"},
		{"weekly, one occurrence cancelled", "weekly-1on1@example.org/2026-11-04", false, "", 0, ""},
		{"weekly, last before now", "weekly-1on1@example.org/2026-11-18", true, "2026-11-18", 1, "kim@example.com"},
		{"monthly COUNT=3, third", "monthly-dinner@example.org/2026-10-15", true, "2026-10-15", 1, "mum@example.net"},
		{"monthly COUNT=3, no fourth", "monthly-dinner@example.org/2026-11-15", false, "", 0, ""},
		{"yearly since 2020, this year", "yearly-birthday@example.org/2026-03-10", true, "2026-03-10", 1, "nina@example.com"},
		{"yearly since 2020, before since", "yearly-birthday@example.org/2025-03-10", false, "", 0, ""},
		{"daily, EXDATE as a date", "daily-standup@example.org/2026-11-21", false, "", 0, ""},
		{"daily, UNTIL inclusive", "daily-standup@example.org/2026-11-24", true, "2026-11-24", 1, "omar@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ok := byRef[tt.ref]
			if ok != tt.counts {
				t.Fatalf("counted = %v, want %v", ok, tt.counts)
			}
			if !ok {
				return
			}
			if d := it.Date.Format(time.DateOnly); d != tt.date {
				t.Errorf("date %s, want %s", d, tt.date)
			}
			if it.People != tt.people {
				t.Errorf("people %d, want %d", it.People, tt.people)
			}
			if w := strings.Join(it.Who, ","); w != tt.who {
				t.Errorf("who %s, want %s", w, tt.who)
			}
		})
	}
}

func TestMaxAttendees(t *testing.T) {
	for _, tt := range []struct {
		max    int
		counts bool
	}{{0, true}, {8, true}, {7, false}, {20, true}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			s, _ := newTestSource(t, Options{Paths: []string{"testdata/ics/eight.ics"}, MaxAttendees: tt.max})
			got, err := s.Interactions(context.Background(), since)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tt.counts {
				t.Errorf("max %d: got %d interactions, counted want %v", tt.max, len(got), tt.counts)
			}
		})
	}
}

func TestSinceCutsRecurrences(t *testing.T) {
	s, _ := newTestSource(t, Options{Paths: []string{"testdata/ics/recurring.ics"}})
	got, err := s.Interactions(context.Background(), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, it := range got {
		lines = append(lines, it.Date.Format(time.DateOnly)+" "+it.Ref)
	}
	want := []string{
		"2026-11-16 weekly-1on1@example.org/2026-11-16",
		"2026-11-18 weekly-1on1@example.org/2026-11-18",
		"2026-11-20 daily-standup@example.org/2026-11-20",
		"2026-11-23 daily-standup@example.org/2026-11-23",
		"2026-11-24 daily-standup@example.org/2026-11-24",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestNewRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"no name", Options{Paths: []string{"x"}, UserEmails: []string{"a@b.c"}}, "name: missing"},
		{"nothing to read", Options{Name: "c", UserEmails: []string{"a@b.c"}}, "neither paths nor url"},
		{"no user", Options{Name: "c", Paths: []string{"x"}}, "user_emails: missing"},
		{"bad user", Options{Name: "c", Paths: []string{"x"}, UserEmails: []string{"me"}}, `"me" is not an email`},
		{"ftp", Options{Name: "c", URL: "ftp://h/", UserEmails: []string{"a@b.c"}}, "scheme must be http or https"},
		{"password in url", Options{Name: "c", URL: "https://u:secret@h/", UserEmails: []string{"a@b.c"}}, "must not hold user or password"},
		{"negative max", Options{Name: "c", Paths: []string{"x"}, UserEmails: []string{"a@b.c"}, MaxAttendees: -1}, "max_attendees"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestMissingPathFails(t *testing.T) {
	s, _ := newTestSource(t, Options{Paths: []string{filepath.Join(t.TempDir(), "nope")}})
	_, err := s.Interactions(context.Background(), since)
	if err == nil || !strings.Contains(err.Error(), `calendar "cal"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestJSONShape(t *testing.T) {
	// The lead stores interactions; make sure Who is never null for a
	// counted event.
	s, _ := newTestSource(t, Options{Paths: []string{"testdata/ics/one-to-one.ics"}})
	got, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"Who":["alice@example.com"]`) {
		t.Errorf("json %s", b)
	}
}
