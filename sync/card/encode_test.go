package card

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// checkFolding checks the physical lines of Encode output: CRLF ends, at
// most 75 octets, no split UTF-8 sequence, nothing but the fold space at the
// start of continuation lines.
func checkFolding(t testing.TB, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Fatalf("output does not end with CRLF: %q", data)
	}
	lines := bytes.Split(data[:len(data)-2], []byte("\r\n"))
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > maxLine {
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if len(l) == 0 {
			t.Fatalf("line %d is empty", i+1)
		}
		if !utf8.Valid(l) {
			t.Fatalf("line %d splits a UTF-8 sequence: %q", i+1, l)
		}
	}
	if string(lines[0]) != "BEGIN:VCARD" || string(lines[len(lines)-1]) != "END:VCARD" {
		t.Fatalf("output not framed by BEGIN/END:VCARD: %q", data)
	}
}

func TestEncodeFolding(t *testing.T) {
	tests := map[string]string{
		"ascii":        strings.Repeat("abcdefghij", 30),
		"japanese":     strings.Repeat("日本語のテキスト", 20),
		"emoji":        strings.Repeat("👨‍👩‍👧‍👦🎉", 25),
		"mixed widths": strings.Repeat("aé日🎉", 40),
		"spaces":       strings.Repeat(" ", 200),
		"escapes":      strings.Repeat(`\,\;\\\n`, 40),
		"exactly 75":   strings.Repeat("x", 75-len("NOTE:")),
		"exactly 76":   strings.Repeat("x", 76-len("NOTE:")),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			c := vcard.Card{
				"VERSION": {{Value: "3.0"}},
				"NOTE":    {{Value: v, Params: vcard.Params{"X-LONG": {strings.Repeat("ü", 50)}}}},
			}
			var buf bytes.Buffer
			if err := Encode(&buf, c); err != nil {
				t.Fatal(err)
			}
			checkFolding(t, buf.Bytes())
			got, err := Decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("round trip:\n%q\n%q", EncodeBytes(c), EncodeBytes(got))
			}
		})
	}
	// A 75-octet line is not folded; a 76-octet one is.
	short := EncodeBytes(vcard.Card{"NOTE": {{Value: tests["exactly 75"]}}})
	if bytes.Count(short, []byte("\r\n")) != 3 {
		t.Errorf("75-octet line folded: %q", short)
	}
	long := EncodeBytes(vcard.Card{"NOTE": {{Value: tests["exactly 76"]}}})
	if bytes.Count(long, []byte("\r\n")) != 4 {
		t.Errorf("76-octet line not folded: %q", long)
	}
}

func TestEncodeLayout(t *testing.T) {
	c := vcard.Card{
		"TEL":     {{Value: "2", Params: vcard.Params{"TYPE": {"work"}}}, {Value: "1", Group: "item1"}},
		"FN":      {{Value: "Ann"}},
		"VERSION": {{Value: "3.0"}},
		"NOTE":    {{Value: "line\r\nbreak\nand\rmore"}},
		"X-P": {{Value: "v", Params: vcard.Params{
			"Z":     {"a:b", "c;d", "e,f", " lead", "trail\t", `say "hi"`, "x\ny", "^n^"},
			"A":     {"plain"},
			"EMPTY": {},
		}}},
	}
	want := "BEGIN:VCARD\r\n" +
		"VERSION:3.0\r\n" +
		"FN:Ann\r\n" +
		"NOTE:line\\nbreak\\nand\\nmore\r\n" +
		"TEL;TYPE=work:2\r\n" +
		"item1.TEL:1\r\n" +
		"X-P;A=plain;Z=\"a:b\",\"c;d\",\"e,f\",\" lead\",\"trail\t\",say ^'hi^',x^ny,^^n^:v\r\n" +
		"END:VCARD\r\n"
	if got := string(EncodeBytes(c)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The parameter values read back as they were.
	back, err := Decode(EncodeBytes(c))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back["X-P"][0].Params["Z"], c["X-P"][0].Params["Z"]; !reflect.DeepEqual(got, want) {
		t.Errorf("params read back as %q, want %q", got, want)
	}
}

func TestEncodeRefusesBadNames(t *testing.T) {
	tests := map[string]vcard.Card{
		"empty name":  {"": {{Value: "x"}}},
		"colon":       {"A:B": {{Value: "x"}}},
		"END":         {"END": {{Value: "VCARD"}}},
		"bad group":   {"TEL": {{Value: "1", Group: "item 1"}}},
		"dotted name": {"A.B": {{Value: "x"}}},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, c); err == nil {
				t.Errorf("Encode accepted the card and wrote %q", buf.Bytes())
			} else if buf.Len() != 0 {
				t.Errorf("Encode wrote %q before failing", buf.Bytes())
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeWriteError(t *testing.T) {
	if err := Encode(failWriter{}, vcard.Card{"FN": {{Value: "x"}}}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
}

// TestHashStable checks that the same content hashes the same whatever the
// order of its lines and parameters, and that a change in content changes it.
func TestHashStable(t *testing.T) {
	a := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nTEL;TYPE=cell;PREF=1:+1 555 0100\r\nEMAIL:ann@example.org\r\nitem1.URL:https://ann.example\r\nitem1.X-ABLabel:blog\r\nEND:VCARD\r\n"
	b := "BEGIN:VCARD\nitem1.X-ABLABEL:blog\nemail:ann@example.org\nTEL;pref=1;type=cell:+1 555 0100\nitem1.url:https://ann.example\nN:Lee;Ann;;;\nVERSION:3.0\nFN:Ann\n  Lee\nEND:VCARD\n"
	ca, err := Decode([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Decode([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	// Built by hand, in yet another order, with names in mixed case.
	cc := make(vcard.Card)
	cc.Add("EMAIL", &vcard.Field{Value: "ann@example.org"})
	cc.Add("X-ABLabel", &vcard.Field{Value: "blog", Group: "item1"})
	cc.Add("URL", &vcard.Field{Value: "https://ann.example", Group: "item1"})
	cc.Add("TEL", &vcard.Field{Value: "+1 555 0100", Params: vcard.Params{"pref": {"1"}, "Type": {"cell"}}})
	cc.Add("N", &vcard.Field{Value: JoinComponents("Lee", "Ann", "", "", "")})
	cc.Add("FN", &vcard.Field{Value: EscapeText("Ann Lee")})
	cc.Add("VERSION", &vcard.Field{Value: "3.0"})

	h := Hash(ca)
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
	if Hash(cb) != h || Hash(cc) != h {
		t.Errorf("hashes differ for equal cards:\n%s %s\n%s %s\n%s %s", h, EncodeBytes(ca), Hash(cb), EncodeBytes(cb), Hash(cc), EncodeBytes(cc))
	}
	if Hash(ca) != h {
		t.Error("Hash is not stable across calls")
	}
	cc["FN"][0].Value = "Ann Lea"
	if Hash(cc) == h {
		t.Error("changed content, same hash")
	}
}

// TestGoVcardReadsOutput checks that the 3.0 kith writes for a khard-style
// card is read by go-vcard's own decoder, as other tools built on it would.
func TestGoVcardReadsOutput(t *testing.T) {
	khard := "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//kith//EN\r\nUID:3c1b7b1e-2f0e-4d5b-9c57-1f6e0d2e8a11\r\n" +
		"FN:Zoë Ölund-Smith\r\nN:Ölund-Smith;Zoë;;;\r\nNICKNAME:Zo\r\nEMAIL;TYPE=home:zoe@example.org\r\n" +
		"TEL;TYPE=cell:+46 70 123 45 67\r\nADR;TYPE=home:;;Storgatan 1;Stockholm;;111 22;Sweden\r\n" +
		"ORG:Exempel AB;IT\r\nTITLE:Utvecklare\r\nBDAY:1990-05-17\r\n" +
		"NOTE:Met at FOSDEM\\, Brussels. Likes 日本語 and long notes that need folding over more than one line.\r\n" +
		"CATEGORIES:friends,work\r\nitem1.URL:https://zoe.example\r\nitem1.X-ABLabel:blog\r\nEND:VCARD\r\n"
	c, err := Decode([]byte(khard))
	if err != nil {
		t.Fatal(err)
	}
	out := EncodeBytes(ToV3(c))
	got, err := vcard.NewDecoder(bytes.NewReader(out)).Decode()
	if err != nil {
		t.Fatalf("go-vcard: %v\n%s", err, out)
	}
	checks := map[string]string{
		"FN":        "Zoë Ölund-Smith",
		"EMAIL":     "zoe@example.org",
		"TEL":       "+46 70 123 45 67",
		"UID":       "3c1b7b1e-2f0e-4d5b-9c57-1f6e0d2e8a11",
		"BDAY":      "1990-05-17",
		"NOTE":      "Met at FOSDEM, Brussels. Likes 日本語 and long notes that need folding over more than one line.",
		"X-ABLABEL": "blog",
	}
	for prop, want := range checks {
		if v := got.Value(prop); v != want {
			t.Errorf("go-vcard reads %s as %q, want %q", prop, v, want)
		}
	}
	if n := got.Name(); n == nil || n.FamilyName != "Ölund-Smith" || n.GivenName != "Zoë" {
		t.Errorf("go-vcard reads N as %+v", n)
	}
	if a := got.Address(); a == nil || a.Locality != "Stockholm" || a.PostalCode != "111 22" {
		t.Errorf("go-vcard reads ADR as %+v", a)
	}
	if got.Get("TEL").Params.Get("TYPE") != "cell" {
		t.Errorf("go-vcard reads TEL params as %v", got.Get("TEL").Params)
	}
}
