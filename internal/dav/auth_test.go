package dav

import (
	"slices"
	"testing"
)

func TestChallenges(t *testing.T) {
	cases := []struct {
		values  []string
		schemes []string
		digest  string // algorithm of the Digest challenge picked, "-" for none
	}{
		{[]string{`Basic realm="Nextcloud", charset="UTF-8"`}, []string{"Basic"}, "-"},
		{[]string{`Digest realm="SabreDAV",qop="auth",nonce="6b0f",opaque="df58"`}, []string{"Digest"}, ""},
		{[]string{`Basic realm="a", Digest realm="b", qop="auth,auth-int", nonce="n", algorithm=SHA-256`}, []string{"Basic", "Digest"}, "SHA-256"},
		{[]string{`Digest realm="b", qop="auth-int", nonce="n"`}, []string{"Digest"}, "-"},
		{[]string{`Digest realm="b", nonce="n", algorithm=SHA-512-256`}, []string{"Digest"}, "-"},
		{[]string{`Negotiate`, `NTLM`}, []string{"Negotiate", "NTLM"}, "-"},
	}
	for _, tc := range cases {
		if got := challengeSchemes(tc.values); !slices.Equal(got, tc.schemes) {
			t.Errorf("%q: schemes %q, want %q", tc.values, got, tc.schemes)
		}
		c := pickDigest(tc.values)
		switch {
		case c == nil && tc.digest != "-":
			t.Errorf("%q: no Digest challenge picked", tc.values)
		case c != nil && c.Algorithm != tc.digest:
			t.Errorf("%q: picked %q, want %q", tc.values, c.Algorithm, tc.digest)
		}
	}
}

// FuzzChallenges: no WWW-Authenticate value may panic.
func FuzzChallenges(f *testing.F) {
	f.Add(`Digest realm="r", qop="auth", nonce="n", algorithm=SHA-256`)
	f.Add(`Basic realm="a\"b", Digest`)
	f.Fuzz(func(t *testing.T, v string) {
		challengeSchemes([]string{v})
		pickDigest([]string{v})
	})
}
