package phonelog

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ksync "kith/sync"
)

var update = flag.Bool("update", false, "rewrite golden files")

// now is the fixed clock of every test: Wednesday 25 November 2026, noon UTC.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var since = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newSource(t testing.TB, dir string) (*Source, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s, err := New(Options{Name: "phone", Path: dir, Region: "DE", Location: time.UTC,
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

// countingStore records how many items Update stored.
type countingStore struct {
	ksync.ItemStore
	mu  sync.Mutex
	put int
}

func (c *countingStore) Update(ctx context.Context, source string, changes ...ksync.BoxChange) error {
	c.mu.Lock()
	for _, ch := range changes {
		c.put += len(ch.Put)
	}
	c.mu.Unlock()
	return c.ItemStore.Update(ctx, source, changes...)
}

func read(t testing.TB, s *Source, store ksync.ItemStore) (string, []ksync.Interaction) {
	t.Helper()
	v, err := s.Update(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := s.Load(context.Background(), store, since)
	if err != nil {
		t.Fatal(err)
	}
	return v, ins
}

func lines(ins []ksync.Interaction) string {
	var b strings.Builder
	for _, in := range ins {
		fmt.Fprintf(&b, "%s %s %s people=%d who=%s\n", in.Date.Format(time.DateOnly), in.Kind, in.Ref, in.People, strings.Join(in.Who, ","))
	}
	return b.String()
}

// copyDir copies the test export into a fresh folder whose files are an
// hour old (a file changed within the last seconds is read again).
func copyDir(t testing.TB, from string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeOld(t, filepath.Join(dir, e.Name()), b)
	}
	return dir
}

func writeOld(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
}

func TestExportGolden(t *testing.T) {
	s, _ := newSource(t, "testdata/export")
	_, ins := read(t, s, &ksync.MemItems{})
	got := lines(ins)
	path := filepath.Join("testdata", "export.golden")
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestWhatCounts names, entry by entry, what a user would check.
func TestWhatCounts(t *testing.T) {
	s, _ := newSource(t, "testdata/export")
	_, ins := read(t, s, &ksync.MemItems{})
	has := func(day, kind, who string) bool {
		for _, in := range ins {
			if in.Date.Format(time.DateOnly) == day && in.Kind == kind && strings.Join(in.Who, ",") == who {
				return true
			}
		}
		return false
	}
	for _, tt := range []struct {
		name           string
		day, kind, who string
		counts         bool
	}{
		{"answered call, national spelling elsewhere", "2026-11-20", "call", "+491711234567", true},
		{"missed call", "2026-11-22", "call", "+491711234567", false},
		{"call made", "2026-11-23", "call", "+491601112223", true},
		{"call made, not answered (0 s)", "2026-11-24", "call", "+491601112223", false},
		{"rejected call", "2026-11-21", "call", "+4930999888", false},
		{"text sent", "2026-11-10", "text", "+4915155566677", true},
		{"text received from someone texted", "2026-11-11", "text", "+4915155566677", true},
		{"text from a stranger", "2026-11-12", "text", "+4917099988877", false},
		{"draft", "2026-11-13", "text", "+4915155566677", false},
		{"group MMS sent", "2026-11-15", "text", "+4915155566677,+491601112223", true},
		{"group MMS received from someone written to", "2026-11-16", "text", "+491601112223", true},
		{"text from a new number never written to", "2026-11-18", "text", "+4917255544433", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := has(tt.day, tt.kind, tt.who); got != tt.counts {
				t.Errorf("counted = %v, want %v\n%s", got, tt.counts, lines(ins))
			}
		})
	}
}

// TestIncremental: unchanged files are not read again; a new export that
// overlaps the old one adds only what is new, each call once; a removed
// export takes what only it held.
func TestIncremental(t *testing.T) {
	dir := copyDir(t, "testdata/export")
	s, _ := newSource(t, dir)
	store := &countingStore{ItemStore: &ksync.MemItems{}}
	v1, first := read(t, s, store)
	store.put = 0
	if v, _ := read(t, s, store); v != v1 || store.put != 0 {
		t.Fatalf("nothing changed: version moved %v, %d stored", v != v1, store.put)
	}
	// The next nightly export holds everything again plus one new call.
	old, _ := os.ReadFile(filepath.Join(dir, "calls-20261124211405.xml"))
	next := strings.Replace(string(old), "</calls>",
		fmt.Sprintf(`  <call number="+491711234567" duration="33" date="%d" type="2" />`+"\n</calls>", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli()), 1)
	writeOld(t, filepath.Join(dir, "calls-20261125211405.xml"), []byte(next))
	v2, second := read(t, s, store)
	if v2 == v1 || len(second) != len(first)+1 {
		t.Fatalf("overlapping export: %d interactions, want %d\n%s", len(second), len(first)+1, lines(second))
	}
	// Only the new file was read.
	store.put = 0
	os.Remove(filepath.Join(dir, "calls-20261124211405.xml"))
	_, third := read(t, s, store)
	if store.put != 0 || len(third) != len(second) {
		t.Errorf("old export removed: %d stored, %d interactions, want 0 and %d", store.put, len(third), len(second))
	}
	os.Remove(filepath.Join(dir, "calls-20261125211405.xml"))
	_, fourth := read(t, s, store)
	if strings.Contains(lines(fourth), "call") {
		t.Errorf("calls left after every call export went:\n%s", lines(fourth))
	}
}

// TestHostileFiles: what is not a regular export file is never opened or
// is refused without failing the folder; a malformed export keeps what it
// gave.
func TestHostileFiles(t *testing.T) {
	dir := copyDir(t, "testdata/export")
	if err := syscall.Mkfifo(filepath.Join(dir, "sms-fifo.xml"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/zero", filepath.Join(dir, "calls-zero.xml"))
	huge := filepath.Join(dir, "calls-huge.xml")
	f, _ := os.Create(huge)
	f.Truncate(MaxFileSize + 1) // sparse: costs no disk
	f.Close()
	writeOld(t, filepath.Join(dir, "sms-broken.xml"), []byte(`<smses><sms address="+4915155566677" date="1763000000000" type="2" /><sms address="`))
	s, logs := newSource(t, dir)
	done := make(chan struct{})
	var ins []ksync.Interaction
	go func() {
		defer close(done)
		_, ins = read(t, s, &ksync.MemItems{})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the read hangs")
	}
	if !strings.Contains(lines(ins), "2026-11-20 call") {
		t.Errorf("the good exports were not read:\n%s", lines(ins))
	}
	if !strings.Contains(logs.String(), "more than the limit") || !strings.Contains(logs.String(), "read in part") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestMissingFolder(t *testing.T) {
	s, _ := newSource(t, filepath.Join(t.TempDir(), "nope"))
	_, err := s.Update(context.Background(), &ksync.MemItems{})
	if err == nil || !strings.Contains(err.Error(), `phonelog "phone"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestScannerValues(t *testing.T) {
	long := strings.Repeat("A", 3*maxValue)
	in := `<?xml version="1.0"?><!-- <call number="1"/> --><![CDATA[<call number="2"/>]]><!DOCTYPE x>` +
		`<calls><call number='+49 &amp; 1&#50;3' data="` + long + `" duration = "5" date="7" type="2"/><call number="` + long + `"/></calls>`
	sc := newScanner(strings.NewReader(in), wanted)
	var got []string
	for {
		el, err := sc.next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%s %q %q %q", el.name, el.attrs["number"], el.attrs["duration"], el.attrs["date"]))
	}
	want := []string{`call "+49 & 123" "5" "7"`, `call "" "" ""`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
