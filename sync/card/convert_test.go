package card

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

// TestToV3KeepsV3 checks that valid 3.0 cards (Apple and khard exports) come
// out of ToV3 exactly as they went in: converting must not churn them.
func TestToV3KeepsV3(t *testing.T) {
	for _, file := range []string{"apple", "escapes", "scripts"} {
		entries, err := DecodeAll(readFile(t, filepath.Join("testdata", file+".vcf")))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Err != nil {
				t.Fatal(e.Err)
			}
			if got := ToV3(e.Card); !reflect.DeepEqual(got, e.Card) {
				t.Errorf("%s card %d changed:\n%s\nbecame\n%s", file, e.Index, EncodeBytes(e.Card), EncodeBytes(got))
			}
		}
	}
}

// TestToV3Idempotent checks ToV3(ToV3(c)) == ToV3(c) and that c itself is
// left alone, for every card in testdata.
func TestToV3Idempotent(t *testing.T) {
	for _, in := range inputs(t) {
		entries, err := DecodeAll(readFile(t, in))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Err != nil {
				continue
			}
			before := EncodeBytes(e.Card)
			once := ToV3(e.Card)
			if string(EncodeBytes(e.Card)) != string(before) {
				t.Errorf("%s card %d: ToV3 changed its input", in, e.Index)
			}
			if twice := ToV3(once); !reflect.DeepEqual(twice, once) {
				t.Errorf("%s card %d:\n%s\nbecame\n%s", in, e.Index, EncodeBytes(once), EncodeBytes(twice))
			}
		}
	}
}

// TestToV3 checks single conversions. Each case is the lines of a card
// after VERSION; want holds lines that must be in the result, gone
// property names or name;PARAM that must not.
func TestToV3(t *testing.T) {
	tests := []struct {
		name    string
		version string
		lines   string
		want    []string
		gone    []string
	}{
		{"version", "4.0", "FN:a\nN:;a;;;", []string{"VERSION:3.0"}, nil},
		{"tel uri", "4.0", "FN:a\nN:;a;;;\nTEL;VALUE=uri;TYPE=cell:tel:+1-555-0100",
			[]string{"TEL;TYPE=cell:+1-555-0100"}, []string{"TEL;VALUE"}},
		{"tel uri with ext", "4.0", "FN:a\nN:;a;;;\nTEL;VALUE=uri:tel:+1-555-0100;ext=7",
			[]string{"TEL:+1-555-0100 ext. 7"}, nil},
		{"tel uri in 3.0", "3.0", "FN:a\nN:;a;;;\nTEL:tel:+15550100", []string{"TEL:+15550100"}, nil},
		{"pref", "4.0", "FN:a\nN:;a;;;\nEMAIL;PREF=2:x@a\nEMAIL;PREF=1;TYPE=work:y@a\nEMAIL:z@a",
			[]string{"EMAIL:x@a", "EMAIL;TYPE=work,pref:y@a", "EMAIL:z@a"}, []string{"EMAIL;PREF"}},
		{"pref already a type", "4.0", "FN:a\nN:;a;;;\nEMAIL;PREF=1;TYPE=PREF:x@a",
			[]string{"EMAIL;TYPE=PREF:x@a"}, nil},
		{"photo data uri", "4.0", "FN:a\nN:;a;;;\nPHOTO:data:image/jpeg;base64,/9j/4AAQ",
			[]string{"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ"}, []string{"PHOTO;VALUE"}},
		{"photo data uri, mediatype, escaped comma", "4.0", "FN:a\nN:;a;;;\nPHOTO;VALUE=uri;MEDIATYPE=image/png:data:image/png;base64\\,iVBO",
			[]string{"PHOTO;ENCODING=b;TYPE=PNG:iVBO"}, []string{"PHOTO;MEDIATYPE"}},
		{"photo url", "4.0", "FN:a\nN:;a;;;\nPHOTO;MEDIATYPE=image/gif:https://x.example/p.gif",
			[]string{"PHOTO;TYPE=GIF;VALUE=uri:https://x.example/p.gif"}, nil},
		{"2.1 photo", "2.1", "FN:a\nN:;a;;;\nPHOTO;ENCODING=BASE64;TYPE=JPEG:QUJD",
			[]string{"PHOTO;ENCODING=b;TYPE=JPEG:QUJD"}, nil},
		{"2.1 photo url", "2.1", "FN:a\nN:;a;;;\nPHOTO;VALUE=URL:http://x.example/p.jpg",
			[]string{"PHOTO;VALUE=uri:http://x.example/p.jpg"}, nil},
		{"key data uri", "4.0", "FN:a\nN:;a;;;\nKEY:data:application/pgp-keys;base64,mQIN",
			[]string{"KEY;ENCODING=b;TYPE=PGP:mQIN"}, nil},
		{"value uri dropped where 3.0 has no use for it", "4.0", "FN:a\nN:;a;;;\nUID;VALUE=uri:urn:uuid:1\nURL;VALUE=uri:http://x.example",
			[]string{"UID:urn:uuid:1", "URL:http://x.example"}, nil},
		{"kind group", "4.0", "FN:Team\nKIND:group\nMEMBER:urn:uuid:1",
			[]string{"X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:1", "N:Team;;;;"}, []string{"KIND", "MEMBER"}},
		{"kind org", "4.0", "FN:Acme\nKIND:org\nORG:Acme",
			[]string{"X-ADDRESSBOOKSERVER-KIND:org", "X-ABSHOWAS:COMPANY", "N:;;;;"}, []string{"KIND"}},
		{"kind individual", "4.0", "FN:a\nN:;a;;;\nKIND:individual", nil, []string{"KIND", "X-ADDRESSBOOKSERVER-KIND"}},
		{"birthday without year", "4.0", "FN:a\nN:;a;;;\nBDAY:--0415\nANNIVERSARY:--12-24",
			[]string{"BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15", "X-ANNIVERSARY;X-APPLE-OMIT-YEAR=1604:1604-12-24"}, []string{"ANNIVERSARY"}},
		{"birthday with year", "4.0", "FN:a\nN:;a;;;\nBDAY:19850415", []string{"BDAY:1985-04-15"}, nil},
		{"geo uri", "4.0", "FN:a\nN:;a;;;\nGEO:geo:37.386013,-122.082932", []string{"GEO:37.386013;-122.082932"}, nil},
		{"2.1 geo", "2.1", "FN:a\nN:;a;;;\nGEO:37.38,-122.08", []string{"GEO:37.38;-122.08"}, nil},
		{"4.0-only params", "4.0", "FN:a\nN:;a;;;\nEMAIL;PID=1.1;ALTID=1:x@a\nCLIENTPIDMAP:1;urn:uuid:2",
			[]string{"EMAIL:x@a"}, []string{"CLIENTPIDMAP"}},
		{"charset and QP", "2.1", "FN:a\nN:;a;;;\nNOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:x\nTEL;ENCODING=8BIT:1",
			[]string{"NOTE:x", "TEL:1"}, nil},
		{"FN from N", "2.1", "N:Doe;Jane;Q.;Dr.;", []string{"FN:Dr. Jane Q. Doe"}, nil},
		{"FN from ORG", "2.1", "ORG:Acme\\, Inc.;Sales", []string{"FN:Acme\\, Inc.", "N:;;;;"}, nil},
		{"FN from EMAIL", "4.0", "EMAIL:x@example.org", []string{"FN:x@example.org"}, nil},
		{"X- and groups kept", "4.0", "FN:a\nN:;a;;;\nitem1.X-ABLabel;X-P=\"a:b\":custom\nitem1.X-FOO:bar",
			[]string{"item1.X-ABLABEL;X-P=\"a:b\":custom", "item1.X-FOO:bar"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "BEGIN:VCARD\nVERSION:" + tt.version + "\n" + tt.lines + "\nEND:VCARD\n"
			c, err := Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			out := EncodeBytes(ToV3(c))
			lines := strings.Split(strings.ReplaceAll(string(out), "\r\n ", ""), "\r\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, g := range tt.gone {
				for _, l := range lines {
					if strings.HasPrefix(l, g+":") || strings.HasPrefix(l, g+";") || strings.HasPrefix(l, g+"=") {
						t.Errorf("%q still in\n%s", g, out)
					}
				}
			}
			for _, l := range lines {
				if strings.Contains(l, "CHARSET") || strings.Contains(l, "QUOTED-PRINTABLE") || strings.Contains(l, "BASE64") {
					t.Errorf("2.1 parameter left: %q", l)
				}
			}
			if got := c.Value(vcard.FieldVersion); got != tt.version {
				t.Errorf("input changed: VERSION %q", got)
			}
		})
	}
}

func TestToV3DoesNotShareParams(t *testing.T) {
	c := vcard.Card{"TEL": {{Value: "1", Params: vcard.Params{"TYPE": {"cell"}}}}}
	out := ToV3(c)
	out["TEL"][0].Params["TYPE"][0] = "changed"
	out["TEL"][0].Value = "2"
	if c["TEL"][0].Params["TYPE"][0] != "cell" || c["TEL"][0].Value != "1" {
		t.Error("ToV3 result shares memory with its input")
	}
}
