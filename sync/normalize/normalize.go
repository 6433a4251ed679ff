package normalize

import (
	"fmt"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Normalizer normalises values for one configuration. It is safe for
// concurrent use.
type Normalizer struct {
	region string
	// cc is the region's country code; trunk and idd say whether its
	// national numbers start with a trunk "0" and international ones with
	// "00" in the way fastE164 can read without a full parse.
	cc         string
	trunk, idd bool
	// lengths memoises possible: bit l of lengths[cc] is set when a
	// national significant number of l digits is possible for country
	// code cc, and bit 31 once the row is filled.
	lengths [1000]atomic.Uint32
}

// fastRegions are the regions whose national numbers are "0" and the
// national significant number, and whose international prefix is "00";
// TestFastPath checks each against the full parser.
var fastRegions = map[string][2]bool{
	"DE": {true, true}, "AT": {true, true}, "CH": {true, true}, "FR": {true, true},
	"GB": {true, true}, "NL": {true, true}, "BE": {true, true}, "SE": {true, true},
	"IE": {true, true}, "ES": {false, true}, "DK": {false, true}, "NO": {false, true},
	"PT": {false, true}, "IT": {false, true},
}

// New returns a Normalizer that reads phone numbers written without a country
// code as numbers of region, an ISO 3166 code such as "DE"; "" accepts only
// numbers with a country code.
func New(region string) (*Normalizer, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region != "" && phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return nil, fmt.Errorf("normalize: unknown region %q", region)
	}
	n := &Normalizer{region: region}
	if f, ok := fastRegions[region]; ok {
		n.cc = fmt.Sprint(phonenumbers.GetCountryCodeForRegion(region))
		n.trunk, n.idd = f[0], f[1]
	}
	return n, nil
}

// Region returns the default region the Normalizer was made with.
func (n *Normalizer) Region() string {
	if n == nil {
		return ""
	}
	return n.region
}

// specialFold maps letters that Unicode does not decompose into a base
// letter and a mark, and the few whose lower case is not their case fold.
var specialFold = strings.NewReplacer(
	"ł", "l", "Ł", "l", "ø", "o", "Ø", "o", "æ", "ae", "Æ", "ae",
	"đ", "d", "Đ", "d", "ß", "ss", "ẞ", "ss", "œ", "oe", "Œ", "oe", "ı", "i",
	"þ", "th", "Þ", "th", "ð", "d", "Ð", "d", "ħ", "h", "Ħ", "h", "ŀ", "l", "Ŀ", "l",
	"ς", "σ",
)

// Fold returns s in the form text comparisons use: NFKC, accents removed,
// case folded, runs of white space collapsed to one space, trimmed.
//
// Letters without a decomposition (ø, ł, æ, ß, đ, þ) are mapped to their
// usual Latin spelling, so "Søren" and "Soren" fold alike. Transliterations
// that depend on language (German "ü" written "ue") are not applied here;
// matching handles them.
func Fold(s string) string {
	if isASCII(s) {
		return foldASCII(s)
	}
	// NFD of NFKC is NFKD: one pass decomposes both ways.
	var b strings.Builder
	b.Grow(len(s))
	space, ascii := false, true
	for _, r := range norm.NFKD.String(s) {
		switch {
		case r < utf8.RuneSelf:
		case unicode.Is(unicode.Mn, r):
			continue
		default:
			ascii = false
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	if ascii {
		return b.String()
	}
	return norm.NFC.String(specialFold.Replace(b.String()))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldASCII is Fold for ASCII text, without allocation when s is already folded.
func foldASCII(s string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
		if c >= 'A' && c <= 'Z' || sp && (c != ' ' || prevSpace) {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Email returns the address in comparable form: a "mailto:" prefix and
// surrounding space or angle brackets removed, lower-cased. It returns "" for
// a value without an '@'.
func (n *Normalizer) Email(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	s = strings.Trim(s, "<> \t")
	if i := strings.LastIndexByte(s, '@'); i <= 0 || i == len(s)-1 {
		return ""
	}
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return strings.ToLower(norm.NFKC.String(s))
}

// Phone returns the number in E.164 form ("+4930123456"). A "tel:" URI prefix
// and extensions are handled (an extension is left out: see PhoneExt). When
// the number cannot be parsed it returns the digits alone (and a leading '+')
// and ok=false, so that equal spellings still compare equal. A nil
// Normalizer has no default region.
func (n *Normalizer) Phone(s string) (e164 string, ok bool) {
	e164, _, ok = n.phone(s, false)
	return e164, ok
}

// PhoneExt is Phone with the number's extension, in digits ("12" of
// "+49 30 1234567 ext. 12" or "tel:+49-30-1234567;ext=12"; "" for none):
// the number says where a person can be reached, the extension which desk,
// so two extensions of one switchboard are two values of a card.
func (n *Normalizer) PhoneExt(s string) (e164, ext string, ok bool) {
	return n.phone(s, true)
}

func (n *Normalizer) phone(s string, wantExt bool) (e164, ext string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
		if i := strings.IndexByte(s, ';'); i >= 0 {
			if wantExt {
				ext = uriExt(s[i+1:])
			}
			s = s[:i]
		}
	}
	if e, ok := n.fast(s); ok {
		return e, ext, true
	}
	if num, err := phonenumbers.Parse(s, n.Region()); err == nil && phonenumbers.IsPossibleNumber(num) {
		if ext == "" {
			ext = num.GetExtension()
		}
		return phonenumbers.Format(num, phonenumbers.E164), ext, true
	}
	var b strings.Builder
	for i, r := range s {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String(), ext, false
}

// uriExt returns the digits of the "ext" parameter among a tel: URI's
// parameters (RFC 3966: ";ext=12;phone-context=…"), or "".
func uriExt(params string) string {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "ext") {
			return strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, v)
		}
	}
	return ""
}

// fast reads the common spellings of a number without the cost of a full
// parse: international with '+', and for a region in fastRegions with "00",
// or national with a trunk "0".
func (n *Normalizer) fast(s string) (string, bool) {
	switch {
	case len(s) > 1 && s[0] == '+':
		if i := strings.Index(s, "(0)"); i > 0 {
			// "+44 (0)20 …": the trunk zero in brackets is not dialled
			// from abroad; only countries known to work that way.
			cc := 0
			for _, c := range s[1:i] {
				switch {
				case c >= '0' && c <= '9':
					cc = cc*10 + int(c-'0')
				case c != ' ':
					return "", false
				}
			}
			if !trunkZero[cc] {
				return "", false
			}
			return n.fastE164(s[:i], s[i+3:])
		}
		return n.fastE164(s, "")
	case n == nil || n.cc == "" || len(s) < 3 || s[0] != '0':
	case s[1] == '0':
		if n.idd {
			return n.fastE164("+", s[2:])
		}
	case n.trunk:
		if e, ok := n.fastE164("+"+n.cc+" ", s[1:]); ok && e[1:1+len(n.cc)] == n.cc {
			return e, true
		}
	}
	return "", false
}

// fastE164 handles the common spelling of an international number, head
// and then tail: '+' and digits with spaces, dashes, dots or slashes
// between them, without the cost of a full parse (several microseconds).
// Anything else (a zero after the country code, extensions, letters, a
// length the country's numbers do not have) is left to the parser.
func (n *Normalizer) fastE164(head, tail string) (string, bool) {
	if len(head) < 1 || head[0] != '+' || len(head)+len(tail) < 2 {
		return "", false
	}
	var buf [24]byte
	out := append(buf[:0], '+')
	for _, s := range [2]string{head[1:], tail} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				if len(out) == cap(buf) {
					return "", false
				}
				out = append(out, c)
			case c == ' ' || c == '-' || c == '.' || c == '/':
			default:
				return "", false
			}
		}
	}
	digits := out[1:]
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", false
	}
	for l := 1; l <= 3; l++ {
		cc := 0
		for _, d := range digits[:l] {
			cc = cc*10 + int(d-'0')
		}
		if phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
			continue
		}
		nsn := digits[l:]
		if len(nsn) < 6 || nsn[0] == '0' && !keepsLeadingZero(cc) || !n.possible(cc, nsn) {
			return "", false
		}
		return string(out), true
	}
	return "", false
}

// possible is possibleNumber, which depends on the country code and the
// number's length only, memoised per country code and length.
func (n *Normalizer) possible(cc int, nsn []byte) bool {
	if n == nil || allZeros(nsn) {
		return possibleNumber(cc, nsn) // "000…": the parser reads one digit more
	}
	const filled = 1 << 31
	row := &n.lengths[cc]
	bits := row.Load()
	if bits&filled == 0 {
		bits = filled
		one := []byte("1000000000000000000000000000000")
		for l := 1; l < 31; l++ {
			if possibleNumber(cc, one[:l]) {
				bits |= 1 << l
			}
		}
		row.Store(bits)
	}
	return len(nsn) < 31 && bits&(1<<len(nsn)) != 0
}

// allZeros reports whether every digit of nsn is '0'.
func allZeros(nsn []byte) bool {
	for _, d := range nsn {
		if d != '0' {
			return false
		}
	}
	return true
}

// possibleNumber reports whether the parser would call the number possible
// (its length fits the country's numbers), so that the fast path never says
// ok where the parser would not.
func possibleNumber(cc int, nsn []byte) bool {
	var v uint64
	zeros := int32(0)
	for _, d := range nsn {
		if v == 0 && d == '0' {
			zeros++
		}
		v = v*10 + uint64(d-'0')
	}
	cc32 := int32(cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &v}
	if zeros > 0 {
		t := true
		num.ItalianLeadingZero = &t
		num.NumberOfLeadingZeros = &zeros
	}
	return phonenumbers.IsPossibleNumberWithReason(num) == phonenumbers.IS_POSSIBLE
}

// trunkZero are the country codes of fastRegions whose national numbers
// start with a trunk "0" that international spellings put in brackets.
var trunkZero = map[int]bool{49: true, 43: true, 41: true, 33: true, 44: true, 31: true, 32: true, 46: true, 353: true}

// keepsLeadingZero reports whether numbers of country code cc keep a leading
// zero after the country code (Italy, Vatican, and a few others).
func keepsLeadingZero(cc int) bool {
	switch cc {
	case 39, 225, 242, 378:
		return true
	}
	return false
}

// EmailSet returns the normalised forms of emails as a set, for telling the
// user's own addresses from others'. It fails on a value that is not an
// email address, naming it.
func (n *Normalizer) EmailSet(emails []string) (map[string]bool, error) {
	set := make(map[string]bool, len(emails))
	for _, e := range emails {
		v := n.Email(e)
		if v == "" {
			return nil, fmt.Errorf("%q is not an email address", e)
		}
		set[v] = true
	}
	return set, nil
}
