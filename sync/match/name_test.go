package match

import (
	"strings"
	"testing"

	"kith/sync/normalize"
)

func TestOCRFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"srnith", "smith"}, {"a1ice", "aliee"}, {"r0se", "rose"}, {"rnarc", "mare"},
		{"smith", "smith"}, {"vvolf", "wolf"}, {"", ""}, {"5am", "sam"}, {"emma", "emma"},
	}
	for _, tt := range tests {
		if got := ocrFold(tt.in); got != tt.want {
			t.Errorf("ocrFold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoose(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Müller", "muller"}, {"Mueller", "muller"}, {"MUELLER", "muller"},
		{"Søren", "soren"}, {"Soeren", "soren"}, {"O'Brien", "obrien"},
		{"Anne-Marie", "anne marie"}, {"J.", "j"}, {"Goethe", "gothe"}, {"Göthe", "gothe"},
		{"Aeon", "aon"}, {"Zoë", "zo"}, {"Zoe", "zo"},
	}
	for _, tt := range tests {
		if got := loose(tt.in); got != tt.want {
			t.Errorf("loose(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzLooseASCII checks that the one-pass loose of ASCII text reads every
// string as normalize.Fold followed by the general loose does.
func FuzzLooseASCII(f *testing.F) {
	for _, s := range []string{"Mueller", "  Anne--Marie  ", "O'Brien, Jr.", "aee uee", "a e", "J. R. R.", "x/y_z", "\tA\n\vB\f\r", "Zoe", "", "-e", "ue", strings.Repeat("Soeren ", 20)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isASCII(s) {
			return
		}
		if got, want := looseASCII(s), looseFolded(normalize.Fold(s)); got != want {
			t.Errorf("looseASCII(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzLooseLatin checks that loose through the table of Latin runes
// (looseLatin) reads every string it takes as normalize.Fold followed by
// the general loose does. The fuzzed bytes are also read two at a time as
// runes below latinEnd, so that most inputs exercise the table.
func FuzzLooseLatin(f *testing.F) {
	for _, s := range []string{"Müller", "Søren Kierkegaard", "José Núñez", "Æsa Þór", "Straße", "François-Xavier",
		"Łukasz Żółć", "a´b", "Ŀuis", "x\u00a0y", "a\u0085b", "ǅemal", "ŉ", "Œuvre", "Ångström", "ĳsbrand", "Zoë\u00a0Ng", "\xff"} {
		f.Add(s)
	}
	check := func(t *testing.T, s string) {
		got, ok := looseLatin(s)
		if !ok {
			return
		}
		if want := looseFolded(normalize.Fold(s)); got != want {
			t.Errorf("looseLatin(%q) = %q, want %q", s, got, want)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		check(t, s)
		var rs []rune
		for i := 0; i+1 < len(s); i += 2 {
			rs = append(rs, rune(uint16(s[i])<<8|uint16(s[i+1]))%latinEnd)
		}
		check(t, string(rs))
	})
}

// FuzzWords checks words against strings.Join(strings.Fields(s), " "), and
// that loose's output is already in that form (parseName relies on it).
func FuzzWords(f *testing.F) {
	for _, s := range []string{"Ann Lee", " Ann", "Ann  Lee", "Ann\tLee", "Ann Lee ", "", " ", "Zoë\u00a0Ng", "a\u0085b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := words(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("words(%q) = %q, want %q", s, got, want)
		}
		if l := loose(s); words(l) != l {
			t.Errorf("loose(%q) = %q, not single-spaced words", s, l)
		}
	})
}

// FuzzOCRLoose holds the one-pass ocrLoose to its definition: ocrFold, then
// i to l, 8 to b and d to "el".
func FuzzOCRLoose(f *testing.F) {
	for _, s := range []string{"clowska", "dowska", "rnarc", "vvolf", "a1ice", "i8d", "rn", "r", "vvv", "rrn", "", "I|10c5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.NewReplacer("i", "l", "8", "b", "d", "el").Replace(ocrFold(s))
		if got := ocrLoose(s); got != want {
			t.Errorf("ocrLoose(%q) = %q, want %q", s, got, want)
		}
	})
}
