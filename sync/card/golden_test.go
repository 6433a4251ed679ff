package card

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// inputs returns the testdata/*.vcf files.
func inputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.vcf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.vcf: %v", err)
	}
	return files
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// render writes every entry as the golden files show it: a header line, then
// the card as out(card) encodes it or the error. CRLF becomes LF so the files
// read well and survive line-end conversion; TestEncodeLineEnds checks CRLF.
func render(entries []Entry, out func(vcard.Card) vcard.Card) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		if e.Err != nil {
			fmt.Fprintf(&b, "=== card %d: error: %v\n", e.Index, e.Err)
			continue
		}
		fmt.Fprintf(&b, "=== card %d\n", e.Index)
		b.Write(bytes.ReplaceAll(EncodeBytes(out(e.Card)), []byte("\r\n"), []byte("\n")))
	}
	return b.Bytes()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden decodes every testdata/*.vcf and compares the re-encoded cards
// with NAME.golden and their ToV3 conversion with NAME.v3.golden.
func TestGolden(t *testing.T) {
	for _, in := range inputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".vcf")
		t.Run(name, func(t *testing.T) {
			entries, err := DecodeAll(readFile(t, in))
			if err != nil {
				t.Fatal(err)
			}
			same := func(c vcard.Card) vcard.Card { return c }
			checkGolden(t, filepath.Join("testdata", name+".golden"), render(entries, same))
			checkGolden(t, filepath.Join("testdata", name+".v3.golden"), render(entries, ToV3))
		})
	}
}

// TestRoundTrip checks that decode, encode, decode gives the same card for
// every card in testdata, and that ToV3 output reads back the same too.
func TestRoundTrip(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			entries, err := DecodeAll(readFile(t, in))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Err != nil {
					continue
				}
				for _, c := range []vcard.Card{e.Card, ToV3(e.Card)} {
					again, err := Decode(EncodeBytes(c))
					if err != nil {
						t.Fatalf("card %d: re-decoding: %v", e.Index, err)
					}
					if !reflect.DeepEqual(again, c) {
						t.Errorf("card %d: round trip changed the card:\n%s\nbecame\n%s", e.Index, EncodeBytes(c), EncodeBytes(again))
					}
				}
			}
		})
	}
}
