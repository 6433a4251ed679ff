package match

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

func TestFromCard(t *testing.T) {
	c := vcard.Card{
		vcard.FieldFormattedName: {{Value: `Lee\, Ann`}},
		vcard.FieldName:          {{Value: `Lee;Ann;Marie;Dr.;Jr.`}},
		vcard.FieldNickname:      {{Value: `Annie,Nan\,ny`}},
		vcard.FieldEmail: {
			{Value: "ann@example.com", Params: vcard.Params{"TYPE": {"work"}}},
			{Value: "  "},
		},
		vcard.FieldTelephone: {
			{Value: "+49 30 1234567", Params: vcard.Params{"type": {"WORK,VOICE"}}},
			{Value: "tel:+49-171-555", Params: vcard.Params{"TYPE": {"cell", "pref"}}},
		},
		vcard.FieldOrganization: {{Value: `Acme\; Sons;Sales`}},
		vcard.FieldTitle:        {{Value: `Head of Sales\, EMEA`}},
		vcard.FieldAddress:      {{Value: `;;Hauptstr. 5;Berlin;;10115;Germany`}},
	}
	got := FromCard("src:ann.vcf", c, true)
	want := Evidence{
		Key: "src:ann.vcf", FN: "Lee, Ann",
		Given: "Ann", Family: "Lee", Middle: "Marie", Prefix: "Dr.", Suffix: "Jr.",
		Nicknames: []string{"Annie", "Nan,ny"},
		Emails:    []string{"ann@example.com"},
		Phones: []Phone{
			{Number: "+49 30 1234567", Types: []string{"work", "voice"}},
			{Number: "tel:+49-171-555", Types: []string{"cell", "pref"}},
		},
		Org: "Acme; Sons", Title: "Head of Sales, EMEA",
		Addresses: []Address{{Street: "Hauptstr. 5", Locality: "Berlin", Postcode: "10115", Country: "Germany"}},
		Scanned:   true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromCard:\n got %+v\nwant %+v", got, want)
	}
	if ev := FromCard("k", vcard.Card{}, false); !reflect.DeepEqual(ev, Evidence{Key: "k"}) {
		t.Errorf("FromCard(empty) = %+v", ev)
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		ev                                     Evidence
		given, middle, family, suffix, aliases string
	}{
		{Evidence{FN: "Smith, John A."}, "john", "a", "smith", "", ""},
		{Evidence{FN: "Dr. John A. Smith Jr."}, "john", "a", "smith", "jr", ""},
		{Evidence{FN: "Ludwig van Beethoven"}, "ludwig", "", "van beethoven", "", ""},
		{Evidence{FN: `Robert "Bob" Smith`}, "robert", "", "smith", "", "bob"},
		{Evidence{FN: "John Smith, PhD"}, "john", "", "smith", "", ""},
		{Evidence{FN: "Bob Smith", Given: "Robert", Family: "Smith"}, "robert", "", "smith", "", "bob"},
		{Evidence{FN: "Madonna"}, "madonna", "", "", "", ""},
		{Evidence{FN: "Herr Jürgen Müller-Lüdenscheidt"}, "jurgen", "", "muller ludenscheidt", "", ""},
		{Evidence{Given: "Ann", Nicknames: []string{"Annie"}}, "ann", "", "", "", "annie"},
		{Evidence{FN: "Smith, John, Sr."}, "john", "", "smith", "sr", ""},
	}
	for _, tt := range tests {
		n := parseName(&tt.ev, nil)
		var aliases string
		if len(n.given) > 1 {
			aliases = n.given[1]
		}
		if n.first() != tt.given || n.middle != tt.middle || n.family != tt.family || n.suffix != tt.suffix || aliases != tt.aliases {
			t.Errorf("parseName(%+v) = given %q middle %q family %q suffix %q aliases %q; want %q %q %q %q %q",
				tt.ev, n.first(), n.middle, n.family, n.suffix, aliases, tt.given, tt.middle, tt.family, tt.suffix, tt.aliases)
		}
	}
}

func TestNameRel(t *testing.T) {
	tests := []struct {
		a, b string
		scan bool
		want rel
	}{
		{"Robert Smith", "Bob Smith", false, relSame},
		{"Elizabeth Taylor", "Liz Taylor", false, relSame},
		{"Jürgen Müller", "Juergen Mueller", false, relSame},
		{"Søren Kierkegaard", "Soren Kierkegaard", false, relSame},
		{"Smith, John", "John Smith", false, relSame},
		{"Smith John", "John Smith", false, relSame}, // swapped without a comma
		{"J. Smith", "John Smith", false, relWeak},
		{"B. Smith", "Robert Smith", false, relWeak}, // B for Bob
		{"John Smith", "Jane Smith", false, relConflict},
		{"John Smith", "John Smyth", false, relConflict},
		{"John Smith Jr.", "John Smith Sr.", false, relConflict},
		{"John A. Smith", "John B. Smith", false, relConflict},
		{"Srnith John", "John Smith", true, relWeak},
		{"Ernrna Srnith", "Emma Smith", true, relOCR},
		{"Ernrna Srnith", "Emma Smith", false, relConflict},
		{"T0mmy Wang", "Thomas Wang", true, relOCR},
		{"María García López", "Maria Garcia", false, relWeak},
		{"Katharina Schmidt", "Katarina Schmidt", false, relWeak},
		{"Ann", "Ann Lee", false, relWeak},
		{"Ann", "Bob", false, relConflict},
	}
	for _, tt := range tests {
		a, b := parseName(&Evidence{FN: tt.a, Scanned: tt.scan}, nil), parseName(&Evidence{FN: tt.b}, nil)
		if got, how := nameRel(&a, &b); got != tt.want {
			t.Errorf("nameRel(%q, %q) = %v (%s), want %v", tt.a, tt.b, got, how, tt.want)
		}
		if got, _ := nameRel(&b, &a); got != tt.want {
			t.Errorf("nameRel(%q, %q) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

// FuzzParseName checks that any FN and N parse without panics, and that
// comparing a name with itself never finds a conflict.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"Smith, John A.", "Dr. John Smith Jr.", `Robert "Bob" Smith`, "Ludwig van Beethoven", "(", `"`, ",,,", "Ὀδυσσεύς", "J.", "-"} {
		f.Add(s, "", "", false)
	}
	f.Add("Bob Smith", "Robert", "Smith", true)
	f.Fuzz(func(t *testing.T, fn, given, family string, scanned bool) {
		ev := Evidence{FN: fn, Given: given, Family: family, Scanned: scanned}
		n := parseName(&ev, nil)
		m := parseName(&ev, nil)
		if r, _ := nameRel(&n, &m); r == relConflict {
			t.Fatalf("name %q/%q/%q conflicts with itself: %+v", fn, given, family, n)
		}
	})
}

// TestFromDecodedCard reads evidence from a vCard 2.1 scan export as kith's
// decoder gives it: bare type parameters, QUOTED-PRINTABLE, escapes.
func TestFromDecodedCard(t *testing.T) {
	raw := "BEGIN:VCARD\r\nVERSION:2.1\r\n" +
		"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n" +
		"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller\r\n" +
		"TEL;WORK;VOICE:+49 30 1234-0\r\n" +
		"TEL;CELL:0171 5555555\r\n" +
		"EMAIL;INTERNET:jm@example.de\r\n" +
		"ORG:Acme\\, Inc.;Sales\r\n" +
		"END:VCARD\r\n"
	c, err := card.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	ev := FromCard("scans:a.vcf#1", c, true)
	if ev.Given != "Jürgen" || ev.Family != "Müller" || ev.FN != "Jürgen Müller" || ev.Org != "Acme, Inc." {
		t.Errorf("names: %+v", ev)
	}
	want := []Phone{{Number: "+49 30 1234-0", Types: []string{"work", "voice"}}, {Number: "0171 5555555", Types: []string{"cell"}}}
	if !reflect.DeepEqual(ev.Phones, want) {
		t.Errorf("phones = %+v, want %+v", ev.Phones, want)
	}
	if !reflect.DeepEqual(ev.Emails, []string{"jm@example.de"}) {
		t.Errorf("emails = %q", ev.Emails)
	}
}

// A card's repeated lines count once, whether they are found by a scan
// (few lines) or through a map (past manyLines); a repeated number takes
// the more telling type.
func TestPrepareKeepsEachLineOnce(t *testing.T) {
	nz := de(t)
	for _, n := range []int{3, manyLines + 5} {
		t.Run(fmt.Sprint(n, " lines"), func(t *testing.T) {
			var ev Evidence
			for i := range n {
				ev.Emails = append(ev.Emails, fmt.Sprintf("p%d@example.org", i%2))
				ev.Addresses = append(ev.Addresses, Address{Street: fmt.Sprintf("Hauptstr. %d", i%2+1), Locality: "Berlin", Postcode: "10115"})
				ev.Phones = append(ev.Phones, Phone{Number: "+49 30 1234567"})
			}
			ev.Phones = append(ev.Phones, Phone{Number: "+49 30 1234567", Types: []string{"cell"}})
			var r rec
			prepare(&r, &ev, nz, &batch{})
			if len(r.emails) != 2 || len(r.addrs) != 2 || len(r.post) != 2 || len(r.phones) != 1 {
				t.Fatalf("kept %d emails, %d addresses, %d postal addresses, %d phones; want 2, 2, 2, 1", len(r.emails), len(r.addrs), len(r.post), len(r.phones))
			}
			if r.phones[0].kind != kindCell {
				t.Errorf("phone kind %d, want mobile (%d)", r.phones[0].kind, kindCell)
			}
		})
	}
}
