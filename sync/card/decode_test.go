package card

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"golang.org/x/text/encoding/unicode"
)

// TestDecodeValues checks what a user would see of specific values after
// decoding the testdata files.
func TestDecodeValues(t *testing.T) {
	type want struct {
		file  string
		card  int    // 1-based
		prop  string // property name; group.NAME to pick a grouped one
		index int    // which of the properties of that name
		how   string // text, components, list, raw, or param:NAME
		value string // for components and list: items joined with |
	}
	tests := []want{
		// Escapes in 3.0.
		{"escapes", 1, "FN", 0, "text", `O'Brien, Jr. ; the \ one`},
		{"escapes", 1, "N", 0, "components", `O,Brien|Ann;Marie|Jo,Jean|Dr.|Jr., PhD`},
		{"escapes", 1, "ADR", 0, "components", "|Apt 4;B|12 Main St\nBack door|Springfield, East|IL|62701|USA"},
		{"escapes", 1, "NOTE", 0, "text", "line one\nline two\nline three, with comma; semicolon\\backslash:colon \\n not a newline"},
		{"escapes", 1, "CATEGORIES", 0, "list", `a|b,c|d`},
		{"escapes", 1, "NICKNAME", 0, "list", `Annie|A,B`},
		{"escapes", 1, "ORG", 0, "components", `Smith, Jones & Co|R;D`},
		{"escapes", 1, "TEL", 0, "param:TYPE", `work|voice|pref`},
		{"escapes", 1, "X-CUSTOM", 0, "param:X-PARAM", `quoted; with: colon`},
		{"escapes", 1, "X-CUSTOM", 0, "param:X-EMPTY", ``},
		{"escapes", 1, "X-CARET", 0, "param:X-NOTE", "say \"hi\"\nbye ^ ^x"},
		{"escapes", 1, "item1.X-ABLABEL", 0, "text", `_$!<Other>!$_`},
		{"escapes", 1, "item2.X-ABLABEL", 0, "text", `_$!<Spouse>!$_`},
		{"escapes", 1, "URL", 0, "raw", `http://example.org/a,b;c`},
		// Apple.
		{"apple", 1, "item1.EMAIL", 0, "param:TYPE", `INTERNET|pref`},
		{"apple", 1, "PHOTO", 0, "raw", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z"},
		{"apple", 1, "BDAY", 0, "param:X-APPLE-OMIT-YEAR", `1604`},
		{"apple", 3, "X-ADDRESSBOOKSERVER-MEMBER", 0, "raw", `urn:uuid:5AD380FD-B2DE-4261-BA99-DE1D1DB52FBE`},
		// Google.
		{"google", 1, "ADR", 0, "components", `||Calle Mayor 1, 3º B|Madrid||28013|España`},
		{"google", 1, "item2.URL", 0, "text", `https://www.example.es/majo`},
		{"google", 2, "FN", 0, "text", `Νίκος Παπαδόπουλος`},
		// Outlook 2.1: windows-1252, QP with soft line breaks, bare types,
		// literal commas and backslashes of 2.1.
		{"outlook21", 1, "N", 0, "components", `Müller|Jürgen||Dr.|`},
		{"outlook21", 1, "N", 0, "param:LANGUAGE", `de`},
		{"outlook21", 1, "ORG", 0, "components", `Müller, Söhne & Co. KG|Vertrieb`},
		{"outlook21", 1, "TITLE", 0, "text", `Geschäftsführer`},
		{"outlook21", 1, "NOTE", 0, "text", "Erstes Treffen auf der Messe, Halle 3.\nZweite Zeile mit €-Preis; und C:\\Daten\\Kunden."},
		{"outlook21", 1, "ADR", 0, "components", "||Hauptstraße 5\nHinterhaus|Berlin||10115|Deutschland"},
		{"outlook21", 1, "LABEL", 0, "text", "Hauptstraße 5\nHinterhaus\n10115 Berlin"},
		{"outlook21", 1, "TEL", 0, "param:TYPE", `WORK|VOICE`},
		{"outlook21", 1, "TEL", 1, "raw", `+49 170 1234567`},
		{"outlook21", 1, "EMAIL", 0, "param:TYPE", `PREF|INTERNET`},
		{"outlook21", 1, "URL", 0, "raw", `http://www.mueller-soehne.example/a,b`},
		{"outlook21", 1, "PHOTO", 0, "param:ENCODING", `BASE64`},
		{"outlook21", 1, "PHOTO", 0, "raw", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z"},
		{"outlook21", 1, "X-MS-OL-DESIGN", 0, "raw", `<card xmlns="http://schemas.microsoft.com/office/outlook/12/electronicbusinesscards" ver="1.0" layout="left" bgcolor="ffffff"><img xmlns="" align="fit" area="16" use="cardpicture"/></card>`},
		// Android 2.1: UTF-8 QP split inside a character by a soft break.
		{"android21", 1, "N", 0, "components", `山田|太郎|||`},
		{"android21", 1, "ADR", 0, "components", `||千代田区丸の内 1-1|東京都||100-0005|日本`},
		{"android21", 1, "NOTE", 0, "text", "メモ\n2行目;セミ, comma"},
		{"android21", 1, "X-ANDROID-CUSTOM", 0, "raw", `vnd.android.cursor.item/nickname;Taro-chan;1;;;;;;;;;;;;;`},
		{"android21", 1, "PHOTO", 0, "param:TYPE", `JPEG`},
		{"android21", 2, "FN", 0, "text", `😀 Party Crew`},
		{"android21", 2, "CATEGORIES", 0, "list", `Friends|Party`},
		// Shift_JIS, with 0x5C (backslash) as a second byte, and a base64
		// block whose lines are not indented.
		{"shiftjis21", 1, "N", 0, "components", `鈴木|花子|||`},
		{"shiftjis21", 1, "TITLE", 0, "text", `表示係長`},
		{"shiftjis21", 1, "NOTE", 0, "text", `表示する`},
		{"shiftjis21", 1, "SOUND", 0, "components", `ｽｽﾞｷ|ﾊﾅｺ|||`},
		{"shiftjis21", 1, "PHOTO", 0, "raw", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z"},
		// 4.0: quoted params, RFC 6868, data URIs.
		{"v4", 1, "TEL", 0, "param:TYPE", `work|voice`},
		{"v4", 1, "TEL", 0, "raw", `tel:+1-418-656-9254;ext=102`},
		{"v4", 1, "ADR", 0, "param:LABEL", "Simon Perreault\nViagenie\n2875 boul. Laurier, suite D2-630\nQuebec, QC, Canada G1V 2M2"},
		{"v4", 1, "ADR", 0, "param:GEO", `geo:46.772673,-71.282945`},
		{"v4", 1, "PHOTO", 0, "raw", `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==`},
		{"v4", 1, "N", 0, "components", `Perreault|Simon|||ing. jr,M.Sc.`},
		// Non-Latin scripts folded inside UTF-8 sequences.
		{"scripts", 1, "NOTE", 0, "text", `日本語のメモです。東京で会いました。来年また会う約束をしました。長い行は七十五オクテットで折り返されます。`},
		{"scripts", 1, "TITLE", 0, "text", `مهندس برمجيات أول في شركة المثال للتقنية والحلول الرقمية المتقدمة`},
		{"scripts", 1, "X-GREEK", 0, "text", `Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο, ξανά και ξανά`},
		{"scripts", 1, "X-EMOJI", 0, "text", `🎉🎂🥳👨‍👩‍👧‍👦🏳️‍🌈 birthday party 🎉🎂🥳👨‍👩‍👧‍👦🏳️‍🌈 again 🎉🎂🥳👨‍👩‍👧‍👦`},
		{"scripts", 1, "ADR", 0, "components", `||شارع الملك فهد ١٢٣|الرياض||١١٥٦٤|المملكة العربية السعودية`},
		{"multi-broken", 5, "FN", 0, "text", `Good Two`},
		{"multi-broken", 8, "FN", 0, "text", `Good Four`},
	}
	cache := map[string][]Entry{}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.prop+"/"+tt.how, func(t *testing.T) {
			entries, ok := cache[tt.file]
			if !ok {
				var err error
				entries, err = DecodeAll(readFile(t, filepath.Join("testdata", tt.file+".vcf")))
				if err != nil {
					t.Fatal(err)
				}
				cache[tt.file] = entries
			}
			if tt.card > len(entries) || entries[tt.card-1].Err != nil {
				t.Fatalf("card %d missing or broken", tt.card)
			}
			f := pick(entries[tt.card-1].Card, tt.prop, tt.index)
			if f == nil {
				t.Fatalf("no %s #%d", tt.prop, tt.index)
			}
			var got string
			switch {
			case tt.how == "text":
				got = Text(f.Value)
			case tt.how == "components":
				got = strings.Join(Components(f.Value), "|")
			case tt.how == "list":
				got = strings.Join(List(f.Value), "|")
			case tt.how == "raw":
				got = f.Value
			case strings.HasPrefix(tt.how, "param:"):
				vs, ok := f.Params[strings.TrimPrefix(tt.how, "param:")]
				if !ok {
					t.Fatalf("no parameter %s in %v", tt.how, f.Params)
				}
				got = strings.Join(vs, "|")
			}
			if got != tt.value {
				t.Errorf("got  %q\nwant %q", got, tt.value)
			}
		})
	}
}

// pick returns the index-th property named prop ("group.NAME" to match the group).
func pick(c vcard.Card, prop string, index int) *vcard.Field {
	group, name, ok := strings.Cut(prop, ".")
	if !ok {
		name, group = group, ""
	}
	n := 0
	for _, f := range c[name] {
		if ok && f.Group != group {
			continue
		}
		if n == index {
			return f
		}
		n++
	}
	return nil
}

const simple = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Łukasiewicz\r\nNOTE:a long note that is folded\r\n  in two\r\nEMAIL:anna@example.org\r\nEND:VCARD\r\n"

// TestLineEnds checks that line-end styles, byte order marks, UTF-16,
// blank lines and junk around the card all read as the same card.
func TestLineEnds(t *testing.T) {
	want, err := Decode([]byte(simple))
	if err != nil {
		t.Fatal(err)
	}
	if got := Text(want["NOTE"][0].Value); got != "a long note that is folded in two" {
		t.Fatalf("unfolded NOTE = %q", got)
	}
	lf := strings.ReplaceAll(simple, "\r\n", "\n")
	utf16 := func(le bool, bom bool) string {
		e := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
		if le {
			e = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
		}
		if bom {
			e = unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
			if le {
				e = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
			}
		}
		out, err := e.NewEncoder().String(simple)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := map[string]string{
		"LF":                lf,
		"lone CR":           strings.ReplaceAll(simple, "\r\n", "\r"),
		"mixed":             strings.Replace(lf, "\n", "\r", 2),
		"BOM":               "\uFEFF" + simple,
		"no final newline":  strings.TrimSuffix(simple, "\r\n"),
		"blank lines":       "\r\n\r\n" + strings.ReplaceAll(simple, "EMAIL", "\r\n\r\nEMAIL") + "\r\n\r\n",
		"junk around":       "From: someone\r\nSee attached.\r\n" + simple + "--\r\nSent from my phone\r\nEND:VCARD\r\n",
		"indented END":      strings.Replace(simple, "END:VCARD", "end:vcard  ", 1),
		"UTF-16 LE BOM":     utf16(true, true),
		"UTF-16 BE BOM":     utf16(false, true),
		"UTF-16 LE, no BOM": utf16(true, false),
		"UTF-16 BE, no BOM": utf16(false, false),
		"tab fold":          strings.Replace(simple, "\r\n  in two", "\r\n\t in two", 1),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%s\nwant\n%s", EncodeBytes(got), EncodeBytes(want))
			}
		})
	}
}

// TestBrokenCards checks that each broken card is reported with its line
// and reason, and that the cards around it still come through.
func TestBrokenCards(t *testing.T) {
	good := "BEGIN:VCARD\nVERSION:3.0\nFN:Good\nEND:VCARD\n"
	tests := []struct {
		name, card string
		line       int
		msg        string
	}{
		{"no colon", "BEGIN:VCARD\nVERSION:3.0\nFN Bad\nEND:VCARD\n", 3, "no colon"},
		{"no END", "BEGIN:VCARD\nVERSION:3.0\nFN:Bad\n", 1, "no END:VCARD"},
		{"invalid QP", "BEGIN:VCARD\nVERSION:2.1\nNOTE;QUOTED-PRINTABLE:50=\n=G0\nEND:VCARD\n", 3, `invalid quoted-printable sequence "=G0"`},
		{"QP cut short", "BEGIN:VCARD\nVERSION:2.1\nNOTE;ENCODING=QUOTED-PRINTABLE:abc=4\nEND:VCARD\n", 3, "invalid quoted-printable"},
		{"unknown charset", "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=no-such-charset:x\nEND:VCARD\n", 3, `unknown charset "no-such-charset"`},
		{"bad UTF-8 as UTF-8", "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8:M\xfcller\nEND:VCARD\n", 3, "not valid UTF-8"},
		{"bad name", "BEGIN:VCARD\nVERSION:3.0\nF N:x\nEND:VCARD\n", 3, `invalid property name "F N"`},
		{"bad group", "BEGIN:VCARD\nVERSION:3.0\nitem 1.FN:x\nEND:VCARD\n", 3, `invalid group name "item 1"`},
		{"empty param name", "BEGIN:VCARD\nVERSION:3.0\nFN;=x:y\nEND:VCARD\n", 3, "parameter with no name"},
		{"unterminated quote", "BEGIN:VCARD\nVERSION:3.0\nFN;X=\"abc:y\nEND:VCARD\n", 3, "no closing quote"},
		{"junk after quote", "BEGIN:VCARD\nVERSION:3.0\nFN;X=\"a\"b:y\nEND:VCARD\n", 3, "after a quoted value"},
		{"nested BEGIN other", "BEGIN:VCARD\nVERSION:3.0\nBEGIN:VCALENDAR\nEND:VCARD\n", 3, "BEGIN:VCALENDAR inside a vCard"},
		{"BEGIN before END", "BEGIN:VCARD\nVERSION:3.0\nFN:x\n", 1, "no END:VCARD before the next BEGIN:VCARD on line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The broken card is the second of three; its lines start at 5.
			in := good + tt.card + good
			entries, err := DecodeAll([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 3 {
				t.Fatalf("got %d entries, want 3", len(entries))
			}
			for i, e := range entries {
				if e.Index != i+1 {
					t.Errorf("entry %d has Index %d", i, e.Index)
				}
			}
			if entries[0].Err != nil || entries[2].Err != nil {
				t.Fatalf("good cards broken: %v, %v", entries[0].Err, entries[2].Err)
			}
			if Text(entries[2].Card.Value("FN")) != "Good" {
				t.Errorf("third card FN = %q", entries[2].Card.Value("FN"))
			}
			e := entries[1]
			if e.Err == nil || e.Card != nil {
				t.Fatalf("broken card: Err %v, Card %v", e.Err, e.Card)
			}
			var se *SyntaxError
			if !errors.As(e.Err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", e.Err)
			}
			if se.Line != tt.line+4 || !strings.Contains(se.Msg, strings.ReplaceAll(tt.msg, "line 4", "line 8")) {
				t.Errorf("error %q, want line %d and %q", e.Err, tt.line+4, tt.msg)
			}
			if _, err := Decode([]byte(tt.card)); err == nil {
				t.Error("Decode accepted the broken card")
			}
		})
	}
}

func TestDecodeAllUnusable(t *testing.T) {
	tests := map[string]struct {
		in, msg string
	}{
		"empty":    {"", "empty"},
		"blank":    {"\r\n \n", "empty"},
		"binary":   {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"},
		"text":     {"Dear Anna,\nplease find my details below.\n", "no BEGIN:VCARD"},
		"calendar": {"BEGIN:VCALENDAR\nEND:VCALENDAR\n", "no BEGIN:VCARD"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			entries, err := DecodeAll([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %q", err, tt.msg)
			}
			if entries != nil {
				t.Errorf("entries = %v", entries)
			}
		})
	}
}

func TestDecodeOne(t *testing.T) {
	if _, err := Decode([]byte(simple + simple)); err == nil || !strings.Contains(err.Error(), "2 vCards") {
		t.Errorf("two cards: err = %v", err)
	}
	if _, err := Decode([]byte("hello")); err == nil {
		t.Error("no card: no error")
	}
	c, err := Decode([]byte("BEGIN:VCARD\r\nEND:VCARD\r\n"))
	if err != nil || c == nil || len(c) != 0 {
		t.Errorf("empty card: %v, %v", c, err)
	}
}

// TestDecode21 covers vCard 2.1 forms not in the testdata files.
func TestDecode21(t *testing.T) {
	tests := []struct {
		name, line string
		prop, want string // want is the raw value
		params     string // TYPE values joined with |, "" to skip
	}{
		{"bare types", "TEL;WORK;VOICE;PREF:+44 20 7946 0000", "TEL", "+44 20 7946 0000", "WORK|VOICE|PREF"},
		{"bare types, commas", "TEL;WORK,FAX:1", "TEL", "1", "WORK|FAX"},
		{"lower-case names", "tel;type=work;Type=voice:2", "TEL", "2", "work|voice"},
		{"bare QP", "NOTE;QUOTED-PRINTABLE:a=3Db", "NOTE", "a=b", ""},
		{"QP latin-1 alias", "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Ren=E9", "FN", "René", ""},
		{"QP lower-case hex", "FN;ENCODING=QUOTED-PRINTABLE;CHARSET=utf-8:=c3=a9", "FN", "é", ""},
		{"QP newline", "NOTE;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab=0Ac=0Dd", "NOTE", `a\nb\nc\nd`, ""},
		{"QP soft break keeps spaces", "NOTE;ENCODING=QUOTED-PRINTABLE:two=\r\n words", "NOTE", "two words", ""},
		{"QP soft break, empty line", "NOTE;ENCODING=QUOTED-PRINTABLE:end=\r\n\r\nEMAIL:x", "NOTE", "end", ""},
		{"QP stops at END", "NOTE;ENCODING=QUOTED-PRINTABLE:end=", "NOTE", "end", ""},
		{"QP structured", "N;ENCODING=QUOTED-PRINTABLE:M=C3=BCller=3BHans;Jo;;;", "N", "Müller;Hans;Jo;;;", ""},
		{"literal comma in text", "TITLE:CEO, founder", "TITLE", `CEO\, founder`, ""},
		{"literal semicolon in text", "NOTE:a;b", "NOTE", `a\;b`, ""},
		{"escaped semicolon in N", `N:Smith\;Jones;Ann`, "N", `Smith\;Jones;Ann`, ""},
		{"literal comma in ADR", "ADR:;;1 Main St, Apt 2;Town", "ADR", `;;1 Main St\, Apt 2;Town`, ""},
		{"comma list", "CATEGORIES:a,b;c", "CATEGORIES", `a,b\;c`, ""},
		{"lone backslash", `NOTE:C:\temp\`, "NOTE", `C:\\temp\\`, ""},
		{"escaped newline", `NOTE:a\nb`, "NOTE", `a\nb`, ""},
		{"URL untouched", "URL:http://x.example/a,b;c", "URL", "http://x.example/a,b;c", ""},
		{"X- untouched", `X-FOO:a,b;c\d`, "X-FOO", `a,b;c\d`, ""},
		{"no charset, not UTF-8", "FN:Jos\xe9", "FN", "José", ""},
		{"bare base64", "PHOTO;JPEG;BASE64:\r\n  QUJD\r\n  REVG\r\n\r\nEMAIL:x", "PHOTO", "QUJDREVG", "JPEG"},
		{"base64 not indented", "PHOTO;ENCODING=BASE64;TYPE=GIF:QUJD\r\nREVG\r\nR0g=\r\n\r\nEMAIL:x", "PHOTO", "QUJDREVGR0g=", "GIF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "BEGIN:VCARD\r\nVERSION:2.1\r\n" + tt.line + "\r\nEND:VCARD\r\n"
			c, err := Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			f := c.Get(tt.prop)
			if f == nil {
				t.Fatalf("no %s in\n%s", tt.prop, EncodeBytes(c))
			}
			if f.Value != tt.want {
				t.Errorf("value %q, want %q", f.Value, tt.want)
			}
			if tt.params != "" {
				if got := strings.Join(f.Params["TYPE"], "|"); got != tt.params {
					t.Errorf("TYPE %q, want %q", got, tt.params)
				}
			}
			if _, ok := f.Params["CHARSET"]; ok {
				t.Error("CHARSET kept although the value is decoded")
			}
			for _, e := range f.Params["ENCODING"] {
				if strings.EqualFold(e, "QUOTED-PRINTABLE") {
					t.Error("ENCODING=QUOTED-PRINTABLE kept although the value is decoded")
				}
			}
			if strings.Contains(tt.line, "EMAIL") && c.Value("EMAIL") != "x" {
				t.Errorf("property after the value lost: EMAIL = %q", c.Value("EMAIL"))
			}
		})
	}
}

// photoCard returns a 3.0 card with a base64 photo of about n bytes, folded
// as writers fold it.
func photoCard(n int) []byte {
	raw := bytes.Repeat([]byte{0xFF, 0xD8, 0x42, 0x17, 0x99}, n/5)
	enc := base64.StdEncoding.EncodeToString(raw)
	var b bytes.Buffer
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:")
	for i := 0; i < len(enc); i += 74 {
		if i > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString(enc[i:min(i+74, len(enc))])
	}
	b.WriteString("\r\nEND:VCARD\r\n")
	return b.Bytes()
}

func TestLargePhoto(t *testing.T) {
	crlf := photoCard(2 << 20)
	for name, data := range map[string][]byte{
		"CRLF":    crlf,
		"LF":      bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n")),
		"lone CR": bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\r")),
		"2.1 block": bytes.ReplaceAll(bytes.Replace(bytes.Replace(crlf, []byte("VERSION:3.0"), []byte("VERSION:2.1"), 1),
			[]byte("ENCODING=b"), []byte("ENCODING=BASE64"), 1), []byte("\r\n "), []byte("\r\n")),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.StdEncoding.DecodeString(c.Value("PHOTO"))
			if err != nil || len(raw) != (2<<20)/5*5 {
				t.Fatalf("photo: %d bytes, %v", len(raw), err)
			}
			again, err := Decode(EncodeBytes(c))
			if err != nil || again.Value("PHOTO") != c.Value("PHOTO") {
				t.Fatalf("photo changed in a round trip: %v", err)
			}
		})
	}
}

// BenchmarkDecodePhoto decodes cards with large photos, and has go-vcard's
// own decoder read the smaller one as the peer to compare with: kith's time
// grows linearly with the photo, go-vcard's quadratically (about 40 s for
// the 2 MB card, which is why it is not measured).
func BenchmarkDecodePhoto(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"256K", 256 << 10}, {"2M", 2 << 20}} {
		data := photoCard(size.n)
		for _, ends := range []struct{ name, sep string }{{"", "\r\n"}, {"-CR", "\r"}} {
			in := bytes.ReplaceAll(data, []byte("\r\n"), []byte(ends.sep))
			b.Run("kith/"+size.name+ends.name, func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					if _, err := Decode(in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		if size.n > 256<<10 {
			continue
		}
		b.Run("go-vcard/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := vcard.NewDecoder(bytes.NewReader(data)).Decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeLargePhoto(b *testing.B) {
	c, err := Decode(photoCard(2 << 20))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		EncodeBytes(c)
	}
}

func BenchmarkDecodeTestdata(b *testing.B) {
	var all []byte
	for _, in := range inputs(b) {
		all = append(all, readFile(b, in)...)
	}
	b.SetBytes(int64(len(all)))
	for b.Loop() {
		if _, err := DecodeAll(all); err != nil {
			b.Fatal(err)
		}
	}
}

func fuzzSeeds(f *testing.F) {
	for _, in := range inputs(f) {
		f.Add(readFile(f, in))
	}
	f.Add([]byte(simple))
	f.Add([]byte("BEGIN:VCARD\nVERSION:2.1\nN;QUOTED-PRINTABLE:a=\n=3Bb\nTEL;WORK;\"x\":1\nX;P=\"a^'\":v\nEND:VCARD"))
	f.Add([]byte("BEGIN:VCARD\rVERSION:4.0\rX-A;P=^^^n^':\\\r END:VCARD\r"))
}

// FuzzDecodeAll checks that no input makes DecodeAll panic, and that what it
// returns keeps its promises: Card xor Err, valid UTF-8, no line breaks.
func FuzzDecodeAll(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := DecodeAll(data)
		if err != nil {
			if entries != nil {
				t.Fatal("entries with an error")
			}
			return
		}
		for i, e := range entries {
			if e.Index != i+1 || (e.Card == nil) == (e.Err == nil) {
				t.Fatalf("entry %d: Index %d, Card %v, Err %v", i, e.Index, e.Card, e.Err)
			}
			for name, fields := range e.Card {
				for _, fl := range fields {
					if !utf8.ValidString(fl.Value) || strings.ContainsAny(fl.Value, "\r\n") {
						t.Fatalf("%s: bad value %q", name, fl.Value)
					}
				}
			}
		}
	})
}

// FuzzRoundTrip checks that every card that decodes encodes to text that
// decodes to the same card, byte for byte, and that Encode folds properly.
func FuzzRoundTrip(f *testing.F) {
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
			var buf bytes.Buffer
			if err := Encode(&buf, e.Card); err != nil {
				t.Fatalf("card %d: Encode: %v", e.Index, err)
			}
			checkFolding(t, buf.Bytes())
			again, err := Decode(buf.Bytes())
			if err != nil {
				t.Fatalf("card %d: re-decoding: %v\n%q", e.Index, err, buf.Bytes())
			}
			if !reflect.DeepEqual(again, e.Card) {
				t.Fatalf("card %d changed:\n%q\n%q", e.Index, buf.Bytes(), EncodeBytes(again))
			}
			v3 := ToV3(e.Card)
			if !reflect.DeepEqual(ToV3(v3), v3) {
				t.Fatalf("card %d: ToV3 not idempotent:\n%q\n%q", e.Index, EncodeBytes(v3), EncodeBytes(ToV3(v3)))
			}
			if again, err := Decode(EncodeBytes(v3)); err != nil || !reflect.DeepEqual(again, v3) {
				t.Fatalf("card %d: ToV3 output does not read back: %v\n%q", e.Index, err, EncodeBytes(v3))
			}
		}
	})
}

func TestUTF16Order(t *testing.T) {
	for in, want := range map[string]binary.ByteOrder{
		"\xff\xfeB\x00": binary.LittleEndian, "\xfe\xff\x00B": binary.BigEndian,
		"B\x00E\x00": binary.LittleEndian, "\x00B\x00E": binary.BigEndian, "\r\x00\n\x00": binary.LittleEndian,
		"BEGIN:VCARD": nil, "\xef\xbb\xbfBEGIN": nil, "B": nil, "": nil,
	} {
		got, ok := UTF16Order([]byte(in))
		if got != want || ok != (want != nil) {
			t.Errorf("UTF16Order(%q) = %v, %v, want %v", in, got, ok, want)
		}
	}
}
