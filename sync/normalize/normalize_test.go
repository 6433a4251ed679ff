package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Müller", "muller"},
		{"  Søren   Kierkegaard ", "soren kierkegaard"},
		{"ŁUKASZ Wiśniewski", "lukasz wisniewski"},
		{"Straße", "strasse"},
		{"ＡＢＣ", "abc"}, // full-width, NFKC
		{"Æsa Œuvre", "aesa oeuvre"},
		{"José\tMaría", "jose maria"},
		{"Ὀδυσσεύς", "οδυσσευσ"},
		{"", ""},
		{"already folded", "already folded"},
		{"Ann\nLee", "ann lee"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmail(t *testing.T) {
	n, _ := New("")
	tests := []struct{ in, want string }{
		{"Ann@Example.COM", "ann@example.com"},
		{"mailto:ann@example.com", "ann@example.com"},
		{" <ann@example.com> ", "ann@example.com"},
		{"MAILTO:Ann@example.com", "ann@example.com"},
		{"no-at-sign", ""},
		{"@example.com", ""},
		{"ann@", ""},
		{"ＡＮＮ@example.com", "ann@example.com"},
	}
	for _, tt := range tests {
		if got := n.Email(tt.in); got != tt.want {
			t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPhone(t *testing.T) {
	de, err := New("de")
	if err != nil {
		t.Fatal(err)
	}
	none, _ := New("")
	tests := []struct {
		n      *Normalizer
		in     string
		want   string
		wantOK bool
	}{
		{de, "+49 30 1234567", "+49301234567", true},
		{de, "030 1234567", "+49301234567", true},
		{de, "0049 30 1234567", "+49301234567", true},
		{de, "+49 (0)30 1234567", "+49301234567", true},
		{de, "+49-30-1234567", "+49301234567", true},
		{de, "tel:+49-30-1234567;ext=12", "+49301234567", true},
		{de, "+44 (0)20 7946 0000", "+442079460000", true},
		{de, "+1 (555) 123-4567", "+15551234567", true},
		{de, "+39 06 1234567", "+39061234567", true},
		{de, "0171 5555555", "+491715555555", true},
		{none, "030 1234567", "0301234567", false},
		{nil, "+49 30 1234567", "+49301234567", true},
		{de, "not a number", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.n.Phone(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Phone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	for _, tt := range []struct{ in, want, ext string }{
		{"+1 415 555 0100 ext. 12", "+14155550100", "12"},
		{"+1 415 555 0100 x34", "+14155550100", "34"},
		{"tel:+1-415-555-0100;ext=7", "+14155550100", "7"},
		{"tel:+1-415-555-0100;phone-context=x;EXT=8", "+14155550100", "8"},
		{"030 1234567 x89", "+49301234567", "89"},
		{"+49 30 1234567-89", "+4930123456789", ""}, // a German direct line is its own number
		{"+1 415 555 0100", "+14155550100", ""},
	} {
		got, ext, ok := de.PhoneExt(tt.in)
		if got != tt.want || ext != tt.ext || !ok {
			t.Errorf("PhoneExt(%q) = %q, %q, %v; want %q, %q, true", tt.in, got, ext, ok, tt.want, tt.ext)
		}
	}
	if _, err := New("XX"); err == nil {
		t.Error("New(XX): no error")
	}
}

// TestFastPath checks that the fast path agrees with the full parser on
// example numbers of every type, in every spelling, for every region it
// serves and for international spellings.
func TestFastPath(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE,
		phonenumbers.TOLL_FREE, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.UAN}
	for region := range fastRegions {
		n, err := New(region)
		if err != nil {
			t.Fatal(err)
		}
		for other := range phonenumbers.GetSupportedRegions() {
			for _, typ := range types {
				num := phonenumbers.GetExampleNumberForType(other, typ)
				if num == nil {
					continue
				}
				spellings := []string{
					phonenumbers.Format(num, phonenumbers.E164),
					phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
					"00" + strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.INTERNATIONAL), "+"),
				}
				if cc := fmt.Sprint(num.GetCountryCode()); true {
					nsn := phonenumbers.GetNationalSignificantNumber(num)
					spellings = append(spellings, "+"+cc+" (0)"+nsn, "+"+cc+" (0) "+nsn, "+"+cc+"-"+nsn)
				}
				if other == region {
					spellings = append(spellings, phonenumbers.Format(num, phonenumbers.NATIONAL))
				}
				for _, s := range spellings {
					checkFast(t, n, s)
				}
			}
		}
	}
}

// TestPossibleMemo checks the memo of possible against the parser's answer
// for every calling code and every length, with and without leading zeros.
func TestPossibleMemo(t *testing.T) {
	n, err := New("DE")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		for l := 1; l <= 20; l++ {
			for _, zeros := range []int{0, 1, 2, l} {
				nsn := make([]byte, l)
				for k := range nsn {
					nsn[k] = byte('0' + r.IntN(10))
					if k < zeros {
						nsn[k] = '0'
					} else if k == zeros {
						nsn[k] = byte('1' + r.IntN(9))
					}
				}
				if got, want := n.possible(cc, nsn), possibleNumber(cc, nsn); got != want {
					t.Errorf("+%d %s: memo says possible %v, parser %v", cc, nsn, got, want)
				}
			}
		}
	}
}

func checkFast(t *testing.T, n *Normalizer, s string) {
	t.Helper()
	fast, ok := n.fast(s)
	if !ok {
		return
	}
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return
	}
	if slow := phonenumbers.Format(num, phonenumbers.E164); slow != fast {
		t.Errorf("region %s: %q: fast path %q, parser %q", n.region, s, fast, slow)
	}
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+49 30 1234567", "030 1234567", "0049 30 12345", "tel:+1-555-0100", "+44 (0)20 7946 0000", "0171/5555555", "+390612345678"} {
		f.Add(s)
	}
	de, _ := New("DE")
	gb, _ := New("GB")
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []*Normalizer{de, gb, nil} {
			e, ok := n.Phone(s)
			if ok && (len(e) < 2 || e[0] != '+') {
				t.Fatalf("Phone(%q) = %q, ok but not E.164", s, e)
			}
			if e2, ext, ok2 := n.PhoneExt(s); e2 != e || ok2 != ok || strings.Trim(ext, "0123456789") != "" {
				t.Fatalf("PhoneExt(%q) = %q, %q, %v; Phone %q, %v", s, e2, ext, ok2, e, ok)
			}
			if n != nil {
				checkFast(t, n, s)
			}
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Müller", "Søren", "ＡＢＣ", "Straße", "  a  b ", "Ὀδυσσεύς", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q, not UTF-8", s, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q: white space not collapsed", s, got)
		}
		if utf8.ValidString(s) {
			if again := Fold(got); again != got {
				t.Fatalf("Fold not idempotent: %q -> %q -> %q", s, got, again)
			}
		}
	})
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"Anne Marie Smith", "Anne-Marie Müller"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				Fold(s)
			}
		})
	}
}

func BenchmarkPhone(b *testing.B) {
	n, _ := New("DE")
	for _, s := range []string{"+49 30 1234567", "030 1234567", "+49 (0)30 1234567"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				n.Phone(s)
			}
		})
	}
}
