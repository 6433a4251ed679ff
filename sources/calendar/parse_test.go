package calendar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"kith/sync/card"
)

// goical decodes data with go-ical's own decoder, the way kith did before
// it had its own: every calendar up to the end or the first error.
func goical(data []byte) (cals []*ical.Calendar, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("go-ical panicked")
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	for {
		cal, err := dec.Decode()
		if err != nil {
			if len(cals) > 0 && strings.Contains(err.Error(), "EOF") {
				return cals, nil
			}
			return nil, err
		}
		cals = append(cals, cal)
	}
}

func testFiles(t testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/ics/*.ics")
	sub, _ := filepath.Glob("testdata/ics/*/*.ics")
	var out [][]byte
	for _, p := range append(files, sub...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// The parser gives what go-ical gave for every test calendar.
func TestParserMatchesGoICal(t *testing.T) {
	for i, data := range testFiles(t) {
		want, werr := goical(data)
		got, err := decodeAll(data, DefaultLimits)
		if (werr == nil) != (err == nil) {
			t.Errorf("file %d: go-ical error %v, ours %v", i, werr, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("file %d: components differ from go-ical's", i)
		}
	}
}

func TestParserLimits(t *testing.T) {
	nested := func(depth int) []byte {
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\n")
		for range depth {
			b.WriteString("BEGIN:X\r\n")
		}
		for range depth {
			b.WriteString("END:X\r\n")
		}
		b.WriteString("END:VCALENDAR\r\n")
		return []byte(b.String())
	}
	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		key  string // of the LimitError, "" for none
	}{
		{"alarm in event", []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"), Limits{Depth: 3}, ""},
		{"one too deep", []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"), Limits{Depth: 2}, "calendar_depth"},
		// Deep enough to overflow the stack of a recursive decoder (go-ical
		// needs about 1 GB of stack for it): an error, at once.
		{"million nested", nested(1_000_000), DefaultLimits, "calendar_depth"},
		{"over size", nested(10), Limits{Size: 100}, "calendar_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.data, tc.lim)
			var le *card.LimitError
			switch {
			case tc.key == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.key != "" && (!errors.As(err, &le) || le.Key != tc.key):
				t.Fatalf("error %v, want the %s limit", err, tc.key)
			case tc.key != "" && !strings.Contains(err.Error(), "[limits] "+tc.key):
				t.Fatalf("error %q does not name [limits] %s", err, tc.key)
			}
		})
	}
}

// A file that is no calendar, say a secret linked into a calendar folder,
// must not be quoted into the error that gets logged.
func TestParserErrorsDoNotQuoteContent(t *testing.T) {
	for _, data := range []string{
		"SECRET_TOKEN=hunter2-hunter2\x00PATH=/usr/bin\n",
		"root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n",
		"BEGIN:hunter2-hunter2\n",
		"BEGIN:VCALENDAR\nX;hunter2=a\"b:c\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nEND:hunter2\n",
		"anna:$2a$10$abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab\n",
	} {
		_, err := decodeAll([]byte(data), DefaultLimits)
		if err == nil {
			t.Fatalf("%q: no error", data)
		}
		for _, secret := range []string{"hunter2", "saltsalt", "abcdefghij", "/usr/bin"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes the file", err)
			}
		}
	}
}

// FuzzDecode checks the parser against go-ical: both accept the same
// calendars and build the same components, and the limits hold.
func FuzzDecode(f *testing.F) {
	for _, b := range testFiles(f) {
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nATTENDEE;CN=\nEND:VEVENT\nEND:VCALENDAR\n"))
	f.Add([]byte("BEGIN:VCALENDAR\nX;A=\"q\",b;C=d:v\n x\nEND:VCALENDAR\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{Size: 1 << 16, Depth: 6}
		got, err := decodeAll(data, lim)
		if err != nil {
			var le *card.LimitError
			if errors.As(err, &le) {
				return
			}
		} else {
			for _, c := range got {
				if d := depth(c.Component); d > lim.Depth {
					t.Fatalf("depth %d over the limit %d", d, lim.Depth)
				}
			}
		}
		want, werr := goical(data)
		if werr != nil || err != nil {
			return // go-ical is stricter or looser on broken input; only agreement on good input is checked
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("components differ from go-ical's")
		}
	})
}

func depth(c *ical.Component) int {
	d := 0
	for _, ch := range c.Children {
		d = max(d, depth(ch))
	}
	return d + 1
}

// manyRDATEs is an event on 100k days (RDATE lines, each date twice, and
// every tenth day excluded).
func manyRDATEs() []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:many\r\nDTSTART;VALUE=DATE:20260101\r\n")
	b.WriteString("ORGANIZER:mailto:me@example.org\r\nATTENDEE:mailto:a@example.org\r\n")
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		d := day.AddDate(0, 0, -i).Format("20060102")
		fmt.Fprintf(&b, "RDATE;VALUE=DATE:%s,%s\r\n", d, d)
		if i%10 == 5 {
			fmt.Fprintf(&b, "EXDATE;VALUE=DATE:%s\r\n", d)
		}
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// 100k RDATEs: every day in the window once, EXDATEs left out. (It took
// 24 s when duplicates and EXDATEs were looked up in lists.)
func TestManyRDATEs(t *testing.T) {
	cals, err := decodeAll(manyRDATEs(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	x := testExtractor(t)
	x.since = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	x.calendar(cals[0], "many")
	// 2025-01-01 .. 2026-01-01 is 366 days, 37 of them excluded.
	if len(x.out) != 366-37 {
		t.Fatalf("%d interactions, want %d", len(x.out), 366-37)
	}
}

func BenchmarkManyRDATEs(b *testing.B) {
	cals, err := decodeAll(manyRDATEs(), DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		x := testExtractor(b)
		x.calendar(cals[0], "bench")
	}
}

// A FIFO named .ics in a calendar folder is skipped, not opened: opening
// it would block the sync for good.
func TestFIFOInCalendarFolder(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.ics"), 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	os.WriteFile(filepath.Join(dir, "one.ics"), []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nDTSTART:20260301T100000Z\nORGANIZER:mailto:me@example.org\nATTENDEE:mailto:a@example.org\nEND:VEVENT\nEND:VCALENDAR\n"), 0o600)
	s, logs := newTestSource(t, Options{Paths: []string{dir}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := s.Interactions(ctx, since)
	if err != nil || len(got) != 1 {
		t.Fatalf("interactions %v, err %v; want the one event", got, err)
	}
	if !strings.Contains(logs.String(), "not a regular file") {
		t.Errorf("log does not say the FIFO was skipped:\n%s", logs)
	}
}
