package card

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	photo := "PHOTO;ENCODING=b;TYPE=JPEG:" + strings.Repeat("QUFB", 3000) + "\r\n"
	folded := "NOTE:" + strings.Repeat("x", 70) + strings.Repeat("\r\n "+strings.Repeat("y", 70), 200) + "\r\n"
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "TEL:+49 171 %07d\r\n", i)
		}
		return b.String()
	}
	wrap := func(body string) []byte {
		return []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n" + body + "END:VCARD\r\n")
	}
	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		key  string // of the LimitError; "" for none
	}{
		{"no limits", wrap(photo + many(100)), Limits{}, ""},
		{"within", wrap(photo + many(100)), Limits{Size: 20000, Properties: 110}, ""},
		{"big photo", wrap(photo), Limits{Size: 10000}, "card_size"},
		{"long folded line", wrap(folded), Limits{Size: 5000}, "card_size"},
		{"many lines", wrap(many(101)), Limits{Properties: 100}, "properties"},
		{"many small lines over size", wrap(many(1000)), Limits{Size: 10000}, "card_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := tc.lim.DecodeAll(tc.data)
			if err != nil || len(entries) != 1 {
				t.Fatalf("entries %v, err %v", entries, err)
			}
			err = entries[0].Err
			var le *LimitError
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

// A card over the limit is skipped alone: the cards around it are read.
func TestLimitSkipsOnlyTheCard(t *testing.T) {
	card := func(fn, extra string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\n" + extra + "END:VCARD\r\n"
	}
	data := card("A", "") + card("Huge", "NOTE:"+strings.Repeat("z", 100000)+"\r\n") + card("C", "")
	entries, err := Limits{Size: 10000}.DecodeAll([]byte(data))
	if err != nil || len(entries) != 3 || entries[0].Err != nil || entries[1].Err == nil || entries[2].Err != nil {
		t.Fatalf("entries %+v, err %v", entries, err)
	}
	if entries[2].Card.Value("FN") != "C" {
		t.Errorf("third card FN %q", entries[2].Card.Value("FN"))
	}
}

// A 64 MB card over the limit costs about the limit in memory, not GBs
// (a 200 MB card took 2.5 GB): its long value is counted, not kept.
func TestLimitBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 64 MB")
	}
	var b strings.Builder
	b.Grow(64 << 20)
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nPHOTO;ENCODING=b:")
	line := strings.Repeat("QUFB", 18) + "\r\n "
	for b.Len() < 64<<20 {
		b.WriteString(line)
	}
	b.WriteString("\r\nEND:VCARD\r\n")
	data := []byte(b.String())
	b = strings.Builder{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	entries, err := Limits{Size: 4 << 20}.DecodeAll(data)
	runtime.ReadMemStats(&after)
	var le *LimitError
	if err != nil || len(entries) != 1 || !errors.As(entries[0].Err, &le) {
		t.Fatalf("entries %+v, err %v; want one card over the size limit", entries, err)
	}
	// TotalAlloc counts every allocation, freed or not.
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Errorf("decoding allocated %s for a card over a 4 MiB limit", FormatSize(int64(got)))
	}
}

// FuzzLimits checks that no card decoded within limits is over them, and
// that the limits never turn a card into a panic or a wrong Index.
func FuzzLimits(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{Size: 256, Properties: 5}
		entries, err := lim.DecodeAll(data)
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Index != i+1 || (e.Card == nil) == (e.Err == nil) {
				t.Fatalf("entry %d: Index %d, Card %v, Err %v", i, e.Index, e.Card, e.Err)
			}
			n := 0
			for _, fields := range e.Card {
				n += len(fields)
			}
			if n > lim.Properties {
				t.Fatalf("entry %d: %d properties, over the limit %d", i, n, lim.Properties)
			}
		}
	})
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 16 << 20: "16 MiB", 3 << 30: "3 GiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
