package card

import (
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

// TestToV4 checks single conversions to 4.0. Each case is the lines of a
// card after VERSION; want holds lines that must be in the result, gone
// property names or name;PARAM that must not.
func TestToV4(t *testing.T) {
	tests := []struct {
		name    string
		version string
		lines   string
		want    []string
		gone    []string
	}{
		{"version", "3.0", "FN:a\nN:;a;;;", []string{"VERSION:4.0", "FN:a", "N:;a;;;"}, nil},
		{"pref and internet", "3.0", "FN:a\nN:;a;;;\nEMAIL;TYPE=INTERNET,WORK,pref:x@a\nEMAIL;TYPE=INTERNET:y@a",
			[]string{"EMAIL;PREF=1;TYPE=WORK:x@a", "EMAIL:y@a"}, nil},
		{"inline photo", "3.0", "FN:a\nN:;a;;;\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ",
			[]string{"PHOTO:data:image/jpeg;base64,/9j/4AAQ"}, []string{"PHOTO;ENCODING", "PHOTO;TYPE"}},
		{"2.1 photo", "2.1", "FN:a\nN:;a;;;\nPHOTO;ENCODING=BASE64;TYPE=PNG:iVBO",
			[]string{"PHOTO:data:image/png;base64,iVBO"}, nil},
		{"photo url", "3.0", "FN:a\nN:;a;;;\nPHOTO;VALUE=uri:https://x.example/p.gif",
			[]string{"PHOTO:https://x.example/p.gif"}, []string{"PHOTO;VALUE"}},
		{"key", "3.0", "FN:a\nN:;a;;;\nKEY;ENCODING=b;TYPE=PGP:mQIN",
			[]string{"KEY:data:application/pgp-keys;base64,mQIN"}, nil},
		{"apple group", "3.0", "FN:Team\nN:Team;;;;\nX-ADDRESSBOOKSERVER-KIND:group\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:1\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:2",
			[]string{"KIND:group", "MEMBER:urn:uuid:1", "MEMBER:urn:uuid:2"}, []string{"X-ADDRESSBOOKSERVER-KIND", "X-ADDRESSBOOKSERVER-MEMBER"}},
		{"apple birthday without year", "3.0", "FN:a\nN:;a;;;\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15\nX-ANNIVERSARY:2001-06-30",
			[]string{"BDAY:--0415", "ANNIVERSARY:20010630"}, []string{"X-ANNIVERSARY", "BDAY;X-APPLE-OMIT-YEAR"}},
		{"birthday", "3.0", "FN:a\nN:;a;;;\nBDAY:1985-04-15", []string{"BDAY:19850415"}, nil},
		{"geo", "3.0", "FN:a\nN:;a;;;\nGEO:37.38;-122.08", []string{"GEO:geo:37.38,-122.08"}, nil},
		{"2.1 QP", "2.1", "FN:a\nN:;a;;;\nNOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:caf=C3=A9", []string{"NOTE:café"}, nil},
		{"X- and groups kept", "3.0", "FN:a\nN:;a;;;\nitem1.EMAIL;TYPE=INTERNET:x@a\nitem1.X-ABLabel:custom",
			[]string{"item1.EMAIL:x@a", "item1.X-ABLABEL:custom"}, nil},
		{"4.0 as it is", "4.0", "FN:a\nKIND:group\nMEMBER:urn:uuid:1\nTEL;VALUE=uri:tel:+1555",
			[]string{"KIND:group", "MEMBER:urn:uuid:1", "TEL;VALUE=uri:tel:+1555"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "BEGIN:VCARD\nVERSION:" + tt.version + "\n" + tt.lines + "\nEND:VCARD\n"
			c, err := Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			before := string(EncodeBytes(c))
			got := ToV4(c)
			if string(EncodeBytes(c)) != before {
				t.Fatal("ToV4 changed its input")
			}
			out := EncodeBytes(got)
			lines := strings.Split(strings.ReplaceAll(string(out), "\r\n ", ""), "\r\n")
			for _, w := range append(tt.want, "VERSION:4.0") {
				if !contains(lines, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, g := range tt.gone {
				for _, l := range lines {
					if strings.HasPrefix(l, g+":") || strings.HasPrefix(l, g+";") {
						t.Errorf("%q still in\n%s", g, out)
					}
				}
			}
			for _, l := range lines {
				if strings.Contains(l, "CHARSET") || strings.Contains(l, "ENCODING") {
					t.Errorf("3.0 parameter left: %q", l)
				}
			}
		})
	}
}

func contains(lines []string, w string) bool {
	for _, l := range lines {
		if l == w {
			return true
		}
	}
	return false
}

// TestToV4RoundTrip converts every card of testdata to 4.0 and back: the
// result decodes, ToV4 is idempotent, and no property of the 3.0 card is
// lost on the way (3.0 → 4.0 → 3.0 keeps every property name).
func TestToV4RoundTrip(t *testing.T) {
	for _, in := range inputs(t) {
		entries, err := DecodeAll(readFile(t, in))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Err != nil {
				continue
			}
			v4 := ToV4(e.Card)
			if _, err := Decode(EncodeBytes(v4)); err != nil {
				t.Errorf("%s card %d: 4.0 does not decode: %v\n%s", in, e.Index, err, EncodeBytes(v4))
			}
			if again := ToV4(v4); !reflect.DeepEqual(again, v4) {
				t.Errorf("%s card %d: ToV4 not idempotent:\n%s\nbecame\n%s", in, e.Index, EncodeBytes(v4), EncodeBytes(again))
			}
			v3, back := ToV3(e.Card), ToV3(v4)
			for name := range v3 {
				if len(back[name]) != len(v3[name]) {
					t.Errorf("%s card %d: %s: %d in 3.0, %d after 4.0 and back\n%s", in, e.Index, name, len(v3[name]), len(back[name]), EncodeBytes(v4))
				}
			}
			for _, name := range []string{vcard.FieldBirthday, fieldAnniversary} {
				if a, b := v3.Value(name), back.Value(name); a != b {
					t.Errorf("%s card %d: %s %q in 3.0, %q after 4.0 and back", in, e.Index, name, a, b)
				}
			}
			if v4.Value(vcard.FieldVersion) != "4.0" {
				t.Errorf("%s card %d: VERSION %q", in, e.Index, v4.Value(vcard.FieldVersion))
			}
		}
	}
}

// FuzzToV4 checks that every card that decodes converts to a 4.0 card that
// reads back as it was written, that converting it again changes nothing,
// and that its conversion back to 3.0 (what an Apple client gets of a card
// a 4.0 client wrote) reads back too.
func FuzzToV4(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := DecodeAll(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Err != nil {
				continue
			}
			v4 := ToV4(e.Card)
			if back, err := Decode(EncodeBytes(v4)); err != nil || !reflect.DeepEqual(back, v4) {
				t.Fatalf("card %d: 4.0 output does not read back: %v\n%q", e.Index, err, EncodeBytes(v4))
			}
			if again := ToV4(v4); !reflect.DeepEqual(again, v4) {
				t.Fatalf("card %d: ToV4 not idempotent:\n%q\n%q", e.Index, EncodeBytes(v4), EncodeBytes(again))
			}
			v3 := ToV3(v4)
			if back, err := Decode(EncodeBytes(v3)); err != nil || !reflect.DeepEqual(back, v3) {
				t.Fatalf("card %d: 3.0 of the 4.0 output does not read back: %v\n%q", e.Index, err, EncodeBytes(v3))
			}
		}
	})
}
