package calendar

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
)

// updateLoad brings store up to date and loads from it, as the daemon does.
func updateLoad(t *testing.T, s *Source, store ksync.ItemStore) (string, []string) {
	t.Helper()
	ctx := context.Background()
	v, err := s.Update(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, store, since)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, in := range got {
		lines = append(lines, line(in))
	}
	return v, lines
}

// Read incrementally, the calendars give what a whole read gives.
func TestIncrementalGivesWhatAWholeReadGives(t *testing.T) {
	s, _ := newTestSource(t, Options{Paths: []string{"testdata/ics"}})
	whole, err := s.Interactions(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, in := range whole {
		want = append(want, line(in))
	}
	store := &ksync.MemItems{}
	v1, got := updateLoad(t, s, store)
	if !slices.Equal(got, want) {
		t.Errorf("incremental:\n%s\nwhole:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v2, again := updateLoad(t, s, store)
	if v1 != v2 || !slices.Equal(again, want) {
		t.Errorf("a second update with nothing changed gave version %s (was %s) and\n%s", v2, v1, strings.Join(again, "\n"))
	}
}

// An .ics file whose stamp did not move is not read again; one whose
// stamp moved is; one whose event has begun since it was read is, too;
// one that is gone takes its events with it.
func TestUnchangedFileIsNotReadAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "one.ics")
	orig, err := os.ReadFile("testdata/ics/one-to-one.ics")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	future, err := os.ReadFile("testdata/ics/future.ics")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "future.ics"), future, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestSource(t, Options{Paths: []string{dir}})
	clock := now
	s.opts.Now = func() time.Time { return clock }
	store := &ksync.MemItems{}
	v1, first := updateLoad(t, s, store)
	if len(first) == 0 || !strings.Contains(strings.Join(first, "\n"), "coffee-alice") {
		t.Fatalf("first read: %q", first)
	}

	// Same size, same mtime, same inode: the file is taken as read.
	fi, _ := os.Stat(path)
	edited := []byte(strings.ReplaceAll(string(orig), "Alice@Example.COM", "Alixe@Example.COM"))
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(edited, 0)
	f.Close()
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if v, got := updateLoad(t, s, store); v != v1 || !slices.Equal(got, first) {
		t.Errorf("a file with the same stamp was read again: version moved %v, %q", v != v1, got)
	}

	// A new mtime: read again.
	os.Chtimes(path, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	v2, got := updateLoad(t, s, store)
	if v2 == v1 || !strings.Contains(strings.Join(got, "\n"), "alixe@example.com") {
		t.Errorf("a changed file was not read again: %q", got)
	}

	// The future event's day comes: its file is read again, unchanged.
	clock = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	v3, got := updateLoad(t, s, store)
	if v3 == v2 || !strings.Contains(strings.Join(got, "\n"), "future@example.org/2026-12-01") {
		t.Errorf("an event that began since its file was read does not count: %q", got)
	}

	// A file gone: its events go.
	os.Remove(path)
	if _, got := updateLoad(t, s, store); strings.Contains(strings.Join(got, "\n"), "coffee-alice") {
		t.Errorf("a deleted file's events stayed: %q", got)
	}
}

// An .ics file whose next event is later today is not read again at each
// sync of that day, only once it has begun.
func TestFileNotReadAgainBeforeItsEventBegins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.ics")
	ics := "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:past@example.org\nDTSTART:20261120T080000Z\n" +
		"ORGANIZER:mailto:me@example.org\nATTENDEE:mailto:alice@example.com\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:later@example.org\nDTSTART:20261201T150000Z\n" +
		"ORGANIZER:mailto:me@example.org\nATTENDEE:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n"
	if err := os.WriteFile(path, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestSource(t, Options{Paths: []string{path}})
	clock := now
	s.opts.Now = func() time.Time { return clock }
	store := &ksync.MemItems{}
	updateLoad(t, s, store)

	// Edited in place with the same stamp: a read would show alixe.
	fi, _ := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte(strings.Replace(ics, "alice@", "alixe@", 1)), 0)
	f.Close()
	os.Chtimes(path, fi.ModTime(), fi.ModTime())

	for _, h := range []int{0, 9, 14} {
		clock = time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC)
		if _, got := updateLoad(t, s, store); strings.Contains(strings.Join(got, "\n"), "alixe") || len(got) != 1 {
			t.Errorf("%02d:00, before the event: the file was read again: %q", h, got)
		}
	}
	clock = time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)
	if _, got := updateLoad(t, s, store); !strings.Contains(strings.Join(got, "\n"), "later@example.org/2026-12-01") {
		t.Errorf("the event does not count once begun: %q", got)
	}
}
