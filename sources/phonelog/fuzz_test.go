package phonelog

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzScanner: any input ends the scan with elements or an error, within
// the limits, never a panic or a hang.
func FuzzScanner(f *testing.F) {
	for _, p := range []string{"testdata/export/calls-20261124211405.xml", "testdata/export/sms-20261124211409.xml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<call number="1" duration="2" date="3" type="1"/>`))
	f.Add([]byte(`<!--`))
	f.Add([]byte(`<mms msg_box="1" date="1"><addr address="+4930123456" type="137"/></mms>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := newScanner(strings.NewReader(string(data)), wanted)
		for range len(data) + 1 {
			el, err := sc.next()
			if err != nil {
				return
			}
			for k, v := range el.attrs {
				if len(v) > maxValue || !wanted[el.name][k] {
					t.Fatalf("kept %s=%q", k, v)
				}
			}
		}
		// Each element takes at least one byte: more means a loop.
		if _, err := sc.next(); !errors.Is(err, io.EOF) && err == nil {
			t.Fatal("more elements than bytes")
		}
		s, _ := newSource(t, t.TempDir())
		s.read(context.Background(), strings.NewReader(string(data)), map[string][]byte{})
	})
}
