package mail

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/sync/normalize"
)

func seeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/Maildir/*/*/*")
	paths = append(paths, "testdata/archive.mbox", "testdata/crlf.mbox")
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseHeaders reads arbitrary bytes as one message's header and
// checks that what comes out is usable.
func FuzzParseHeaders(f *testing.F) {
	seeds(f)
	f.Add([]byte("From: =?x-unknown?B?////?= <a@b.c>\nTo: \"a\\\" <x@y>, ,, <>\n\n"))
	norm, err := normalize.New("")
	if err != nil {
		f.Fatal(err)
	}
	p := newParser(norm.Email)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readHeader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		m := p.message(h, time.Time{})
		if m.ref == "" {
			t.Fatal("no ref")
		}
		for _, r := range append([]string{m.from}, m.recipients...) {
			if r != "" && (r != strings.ToLower(r) || !strings.Contains(r, "@")) {
				t.Fatalf("address %q not normalised", r)
			}
		}
	})
}

// FuzzMbox splits arbitrary bytes as an mbox and checks that every message
// is handed on and the header never holds body lines after a blank line.
func FuzzMbox(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := readMbox(context.Background(), bytes.NewReader(data), "fuzz", func(h header, _ time.Time, _ string) {
			n++
			for name := range h {
				if !validName([]byte(name)) {
					t.Fatalf("bad field name %q", name)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if seps := bytes.Count(data, []byte("\nFrom ")) + 1; n > seps {
			t.Fatalf("%d messages from at most %d separators", n, seps)
		}
	})
}
