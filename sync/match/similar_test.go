package match

import (
	"math/rand/v2"
	"testing"
)

// mayBeSimilarCount is mayBeSimilar as it was before the letter-mask
// bound: the letters in common counted for every pair.
func mayBeSimilarCount(a, b string) bool {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return false
	}
	var ca [256]uint8
	for i := 0; i < la; i++ {
		ca[a[i]]++
	}
	m := 0
	for i := 0; i < lb; i++ {
		if ca[b[i]] > 0 {
			ca[b[i]]--
			m++
		}
	}
	return float64(m)/float64(la)+float64(m)/float64(lb) >= 1.4 || m >= max(la, lb)-2
}

// TestMayBeSimilar checks that the letter-mask bound never turns away a
// pair the count lets through, on names, random words of few letters
// (many in common) and bytes whose mask bits collide (c and c+64).
func TestMayBeSimilar(t *testing.T) {
	names := []string{"", "a", "ab", "ba", "anna", "hanna", "johanna", "jon", "john", "jonathan",
		"katarzyna", "katazryna", "lindqvist", "lindqvvist", "sofie", "sogie", "leilani", "leiani",
		"michael", "sarah", "mueller", "muller", "bart", "bartholomew", "ming", "xiaoming",
		"\x01\x41", "\x41\x01", "a\xe1", "\xe1a", "aaaa", "bbbb", "\x21\x61\xa1\xe1"}
	check := func(a, b string) {
		t.Helper()
		want := mayBeSimilarCount(a, b)
		if got := mayBeSimilar(a, b); got != want {
			t.Errorf("mayBeSimilar(%q, %q) = %v, counting says %v", a, b, got, want)
		}
		x, y := makeForm(a), makeForm(b)
		if got := mayBeSimilarForms(&x, &y); got != want {
			t.Errorf("mayBeSimilarForms(%q, %q) = %v, counting says %v", a, b, got, want)
		}
	}
	for _, a := range names {
		for _, b := range names {
			check(a, b)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string) string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for _, alphabet := range []string{"abc", "aeilnrst", "abcdefghijklmnopqrstuvwxyz", "a!\xa1\xe1Aq1\x01"} {
		for range 20000 {
			check(word(alphabet), word(alphabet))
		}
	}
}

// FuzzMayBeSimilar checks mayBeSimilar against the count it bounds.
func FuzzMayBeSimilar(f *testing.F) {
	f.Add("katarzyna", "katazryna")
	f.Add("michael", "sarah")
	f.Add("a\xe1", "\xe1a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := mayBeSimilar(a, b), mayBeSimilarCount(a, b); got != want {
			t.Errorf("mayBeSimilar(%q, %q) = %v, counting says %v", a, b, got, want)
		}
	})
}
