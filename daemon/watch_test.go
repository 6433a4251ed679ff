package daemon

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"
)

// fastTiming keeps the watcher's waits short in tests.
var fastTiming = watchTiming{Debounce: 50 * time.Millisecond, Settle: 20 * time.Millisecond, MaxWait: 10 * time.Second}

// startWatcher watches dir until the test ends.
func startWatcher(t *testing.T, dir string, timing watchTiming) *watcher {
	t.Helper()
	w, err := newWatcher([]string{dir}, timing, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the watcher did not stop within 10s of its cancel")
		}
	})
	return w
}

// waitChange waits up to d for the watcher to ask for a sync.
func waitChange(w *watcher, d time.Duration) bool {
	select {
	case <-w.changes:
		return true
	case <-time.After(d):
		return false
	}
}

const testCard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n"

func TestWatcherAsksForSyncOnceAFileIsWhole(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, dir string)
	}{
		{"new card", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "ada.vcf"), []byte(testCard), 0o600)
		}},
		{"card in a new subfolder", func(t *testing.T, dir string) {
			sub := filepath.Join(dir, "2026", "11")
			os.MkdirAll(sub, 0o700)
			os.WriteFile(filepath.Join(sub, "ada.vcf"), []byte(testCard), 0o600)
		}},
		{"removed card", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "old.vcf"))
		}},
		{"renamed into place", func(t *testing.T, dir string) {
			tmp := filepath.Join(dir, ".ada.vcf.tmp")
			os.WriteFile(tmp, []byte(testCard), 0o600)
			os.Rename(tmp, filepath.Join(dir, "ada.vcf"))
		}},
		{"csv export", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "export.csv"), []byte("Name,E-mail\nAda,ada@example.org\n"), 0o600)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "old.vcf"), []byte(testCard), 0o600)
			w := startWatcher(t, dir, fastTiming)
			tc.write(t, dir)
			if !waitChange(w, 5*time.Second) {
				t.Fatal("no sync asked for within 5s")
			}
		})
	}
}

func TestWatcherWaitsForAHalfWrittenCard(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, dir, fastTiming)
	f, err := os.Create(filepath.Join(dir, "scan.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := len(testCard) / 2
	f.WriteString(testCard[:half])
	// Well past Debounce+Settle: the file is quiet but does not end with
	// END:VCARD, so no sync may be asked for.
	if waitChange(w, 20*fastTiming.Debounce) {
		t.Fatal("sync asked for while the card was half written")
	}
	f.WriteString(testCard[half:])
	if !waitChange(w, 5*time.Second) {
		t.Fatal("no sync asked for after the card was finished")
	}
}

func TestWatcherGivesUpWaitingAfterMaxWait(t *testing.T) {
	dir := t.TempDir()
	timing := fastTiming
	timing.MaxWait = 300 * time.Millisecond
	w := startWatcher(t, dir, timing)
	os.WriteFile(filepath.Join(dir, "broken.vcf"), []byte("BEGIN:VCARD\r\nFN:never finished\r\n"), 0o600)
	if !waitChange(w, 5*time.Second) {
		t.Fatal("a card that never ends held back the sync for good")
	}
}

func TestWatcherIgnoresTempFiles(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, dir, fastTiming)
	for _, name := range []string{".hidden.vcf", "ada.vcf~", "ada.vcf.swp", "scan.vcf.part", "x.tmp", "export.csv.crdownload"} {
		os.WriteFile(filepath.Join(dir, name), []byte("BEGIN:VCARD\r\n"), 0o600)
	}
	os.Mkdir(filepath.Join(dir, ".git"), 0o700)
	os.WriteFile(filepath.Join(dir, ".git", "index"), []byte("x"), 0o600)
	if waitChange(w, 20*fastTiming.Debounce) {
		t.Fatal("temporary or hidden files asked for a sync")
	}
}

func TestSkipTemp(t *testing.T) {
	for name, want := range map[string]bool{
		"ada.vcf": false, "export.csv": false, "2026": false,
		".ada.vcf": true, "ada.vcf~": true, ".ada.vcf.swp": true, "a.swp": true, "a.PART": true,
		"a.tmp": true, "a.crdownload": true, ".": true,
	} {
		if got := skipTemp(name); got != want {
			t.Errorf("skipTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestEndsWithEndVCard(t *testing.T) {
	tests := []struct {
		name, data string
		want       bool
	}{
		{"whole", testCard, true},
		{"lower case and trailing blank lines", "begin:vcard\nend:vcard\n\n\n", true},
		{"half", testCard[:20], false},
		{"cut inside END", testCard[:len(testCard)-5], false},
		{"empty", "", false},
		{"utf-16 begun", "\xff\xfeB\x00", false},
	}
	// UTF-16, both byte orders, with a byte order mark and without (as
	// Windows tools and old phones export): its end is read decoded.
	long := strings.Repeat("NOTE:"+strings.Repeat("ä", 70)+"\r\n", 40) // the tail starts past the head
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, bom := range []bool{true, false} {
			name := fmt.Sprintf("%s bom %v", order, bom)
			whole := utf16Text(order, bom, testCard)
			big := utf16Text(order, bom, strings.Replace(testCard, "END:VCARD", long+"END:VCARD", 1))
			tests = append(tests, []struct {
				name, data string
				want       bool
			}{
				{name + " whole", whole, true},
				{name + " whole, past the tail", big, true},
				{name + " whole, blank lines after", whole + utf16Text(order, false, "\r\n\r\n"), true},
				{name + " half", whole[:len(whole)/2&^1], false},
				{name + " cut inside END", whole[:len(whole)-10], false},
				{name + " cut inside a character", whole[:len(whole)-1], false},
				{name + " cut inside END, past the tail", big[:len(big)-10], false},
			}...)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.vcf")
			os.WriteFile(p, []byte(tc.data), 0o600)
			if got := endsWithEndVCard(p); got != tc.want {
				t.Errorf("endsWithEndVCard(%q) = %v, want %v", tc.data, got, tc.want)
			}
		})
	}
}

// utf16Text encodes s as UTF-16 in order, after a byte order mark if bom.
func utf16Text(order binary.ByteOrder, bom bool, s string) string {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	b := make([]byte, 2*len(units))
	for i, u := range units {
		order.PutUint16(b[2*i:], u)
	}
	return string(b)
}

func BenchmarkWatcherLatency(b *testing.B) {
	dir := b.TempDir()
	w, err := newWatcher([]string{dir}, fastTiming, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Serve(ctx)
	for i := 0; b.Loop(); i++ {
		os.WriteFile(filepath.Join(dir, "c.vcf"), []byte(testCard), 0o600)
		<-w.changes
	}
}

func TestWatcherRefreshWatchesAFolderItLost(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "cards")
	os.Mkdir(sub, 0o700)
	w := startWatcher(t, dir, fastTiming)
	// A watch lost (the folder was deleted and made again while events
	// overflowed): changes in it go unseen until Refresh.
	if err := w.fs.Remove(sub); err != nil {
		t.Fatal(err)
	}
	w.Refresh()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		os.WriteFile(filepath.Join(sub, "ada.vcf"), []byte(testCard+strings.Repeat("\r\n", i)), 0o600)
		if waitChange(w, 10*fastTiming.Debounce) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no sync asked for a card in a folder watched again")
		}
	}
}

// A file that changes more often than Debounce is handed on MaxWait after
// its first event, not held back for as long as it keeps changing.
func TestWatcherHandsOnAFileThatNeverGoesQuiet(t *testing.T) {
	dir := t.TempDir()
	// A long Debounce: the writer below never pauses that long, so only
	// MaxWait can hand the file on.
	timing := watchTiming{Debounce: 3 * time.Second, Settle: 20 * time.Millisecond, MaxWait: 300 * time.Millisecond}
	w := startWatcher(t, dir, timing)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			os.WriteFile(filepath.Join(dir, "busy.vcf"), []byte(testCard+strings.Repeat("\r\n", i%7)), 0o600)
		}
	}()
	defer func() { close(stop); <-done }()
	if !waitChange(w, timing.Debounce/2) {
		t.Fatal("a file that keeps changing held back the sync for good")
	}
}

// Files no source reads (a scanner app's log) ask for no sync, however
// often they change.
func TestWatcherIgnoresFilesNoSourceReads(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, dir, fastTiming)
	for i := range 10 {
		os.WriteFile(filepath.Join(dir, "scanner.log"), []byte(strings.Repeat("line\n", i+1)), 0o600)
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	}
	if waitChange(w, 20*fastTiming.Debounce) {
		t.Fatal("a log file asked for a sync")
	}
}

// A FIFO named .vcf is not opened (it would block the watcher, and the
// daemon's stop with it): its appearance is handed on for the sync to judge.
func TestWatcherDoesNotOpenAFIFO(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, dir, fastTiming)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.vcf"), 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if !waitChange(w, 5*time.Second) {
		t.Fatal("no sync asked for after a FIFO appeared")
	}
	// startWatcher's cleanup checks that the watcher still stops.
}
