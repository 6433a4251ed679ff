package match

import (
	"strings"
	gosync "sync"
	"unicode"
	"unicode/utf8"

	"kith/sync/normalize"
)

// name is a person's name in the form matching compares: every part
// loose-folded (see loose), given names with their aliases.
type name struct {
	given  []string // first is the given name, then aliases (FN's form, nicknames)
	middle string
	family string
	suffix string // "jr", "sr", "ii", ...
	org    string // set only for a card that names an organisation and no person
	scan   bool   // the text may carry OCR slips

	gf []form // given, precomputed by compile
	ff form   // family, precomputed by compile
	// altFam is middle and family name together, for an FN whose double
	// family name was read as a middle name ("María García López").
	altFam *form
}

func (n *name) empty() bool { return len(n.given) == 0 && n.family == "" && n.org == "" }

// person reports whether n names a person (not an organisation, not empty).
func (n *name) person() bool { return len(n.given) > 0 || n.family != "" }

// first returns the given name, or "".
func (n *name) first() string {
	if len(n.given) == 0 {
		return ""
	}
	return n.given[0]
}

// looseToken folds s for name comparison: Fold, then punctuation dropped,
// German transliterations of umlauts folded (ue, oe, ae become u, o, a, so
// Müller, Muller and Mueller agree), and white space removed.
func looseToken(s string) string {
	return strings.ReplaceAll(loose(s), " ", "")
}

// loose is looseToken keeping single spaces between words; hyphens become spaces.
func loose(s string) string {
	if isASCII(s) {
		return looseASCII(s)
	}
	if l, ok := looseLatin(s); ok {
		return l
	}
	return looseFolded(normalize.Fold(s))
}

// latinEnd ends the runes looseLatin folds through a table: Latin-1
// Supplement, Latin Extended-A and B, the letters of most names written
// in the Latin alphabet that are not ASCII.
const latinEnd = 0x250

// latinFold is what normalize.Fold makes of one rune, if that is ASCII.
type latinFold struct {
	s  string // in lower case, without accents; " " for white space
	ok bool
}

// latinFolds returns the latinFold of every rune from 0x80 to latinEnd.
// It is built once, on first use, from normalize.Fold itself (so the two
// cannot disagree), and never written afterwards.
var latinFolds = gosync.OnceValue(func() *[latinEnd - utf8.RuneSelf]latinFold {
	var t [latinEnd - utf8.RuneSelf]latinFold
	for r := rune(utf8.RuneSelf); r < latinEnd; r++ {
		// Between two letters, white space is kept (as one space).
		f := normalize.Fold("x" + string(r) + "x")
		if len(f) >= 2 && f[0] == 'x' && f[len(f)-1] == 'x' && isASCII(f) {
			t[r-utf8.RuneSelf] = latinFold{s: f[1 : len(f)-1], ok: true}
		}
	}
	return &t
})

// looseLatin is loose of s through latinFolds, without normalize.Fold's
// decomposition and recomposition: each rune folds on its own, and the
// folded text is ASCII. ok is false when s has a rune the table does not
// fold (or is not valid UTF-8).
func looseLatin(s string) (l string, ok bool) {
	t := latinFolds()
	var arr [64]byte
	b := arr[:0]
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b = append(b, byte(r))
		case r < latinEnd && t[r-utf8.RuneSelf].ok:
			b = append(b, t[r-utf8.RuneSelf].s...)
		default:
			return "", false
		}
	}
	return looseASCII(b), true
}

// looseASCII is loose of an ASCII string in one pass: folding (case, white
// space), punctuation and umlaut transliterations at once, and s itself,
// not a copy, when it is loose already. Most names are ASCII, and every
// record's names, title and organisation pass through loose.
func looseASCII[S string | []byte](s S) string {
	var arr [64]byte
	b := arr[:0]
	if len(s) > len(arr) {
		b = make([]byte, 0, len(s))
	}
	space := false
	var prev byte // the last byte of the text before umlauts are folded
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '.', '\'', '`', '"', ',':
			continue
		case '-', '_', '/', ' ', '\t', '\n', '\r', '\v', '\f':
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			prev, space = ' ', false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == 'e' && (prev == 'a' || prev == 'o' || prev == 'u') {
			prev = c
			continue
		}
		b, prev = append(b, c), c
	}
	if string(b) == string(s) {
		return string(s) // no copy of a string
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// looseFolded is loose of a string already folded by normalize.Fold.
func looseFolded(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '.' || r == '\'' || r == '’' || r == '`' || r == '"' || r == ',':
			continue
		case r == '-' || r == ' ' || r == '_' || r == '/':
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return foldUmlauts(b.String())
}

// foldUmlauts writes ae, oe and ue as a, o and u.
func foldUmlauts(s string) string {
	i := 1
	for ; i < len(s); i++ {
		if s[i] == 'e' && (s[i-1] == 'a' || s[i-1] == 'o' || s[i-1] == 'u') {
			break
		}
	}
	if i >= len(s) {
		return s
	}
	b := []byte(s[:i])
	for i++; i < len(s); i++ {
		if s[i] == 'e' && (s[i-1] == 'a' || s[i-1] == 'o' || s[i-1] == 'u') && len(b) > 0 && b[len(b)-1] == s[i-1] {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ocrForm is ocrFold of a loose-folded name, with umlaut spellings folded
// again: a scanned "N0el" reads "noel", which loose folds to "nol".
func ocrForm(s string) string { return foldUmlauts(ocrFold(s)) }

// ocrLoose is ocrFold for addresses and organisation names, which no
// phonetic key reads: it also maps i to l, 8 to b, and d to "el", so that
// a scanner's "cl" for "d" ("Clowska" for "Dowska") and its "c" for "e"
// ("cleanor" for "eleanor") both meet their originals.
func ocrLoose(s string) string {
	var buf [64]byte
	b := appendOCRLoose(buf[:0], s)
	if string(b) == string(s) {
		return string(s) // no copy of a string
	}
	return string(b)
}

// appendOCRLoose appends ocrLoose(s) to b: ocrFold and the further maps of
// ocrLoose in one pass, for comparisons that need no string.
func appendOCRLoose(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c, skip := ocrStep(s, i)
		if skip {
			i++
		}
		switch c {
		case 'i':
			c = 'l'
		case '8':
			c = 'b'
		case 'd':
			b = append(b, 'e')
			c = 'l'
		}
		b = append(b, c)
	}
	return b
}

// ocrFold maps the letters and digits a scanner confuses onto one form, so
// that "Srnith" and "Smith", "A1ice" and "Alice", "R0se" and "Rose" agree.
func ocrFold(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c, skip := ocrStep(s, i)
		if c != s[i] && b == nil {
			b = append(make([]byte, 0, len(s)), s[:i]...)
		}
		if b != nil {
			b = append(b, c)
		}
		if skip {
			i++
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// ocrStep is ocrFold's reading of s[i]: the byte it becomes, and whether
// s[i+1] went into it too (rn is m, vv is w).
func ocrStep(s string, i int) (c byte, skip bool) {
	c = s[i]
	switch c {
	case 'r':
		if i+1 < len(s) && s[i+1] == 'n' {
			return 'm', true
		}
	case 'v':
		if i+1 < len(s) && s[i+1] == 'v' {
			return 'w', true
		}
	case '1', '|', 'I':
		return 'l', false
	case '0':
		return 'o', false
	case 'c':
		return 'e', false
	case '5':
		return 's', false
	}
	return c, false
}

var prefixes = setOf("mr mrs ms miss mx dr prof professor sir dame herr frau hr dipl ing mag mme mlle monsieur madame sra srta rev")

var suffixes = setOf("jr junior sr senior ii iii iv phd md mba msc bsc esq dds jun sen")

var particles = setOf("van von de der den del della dello da di du le la ten ter zu zum zur dos das do bin ibn al el st")

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// normSuffix maps the spellings of a generational suffix to one; other
// suffixes (degrees) are dropped because they do not tell people apart.
func normSuffix(s string) string {
	switch s {
	case "jr", "junior", "jun", "ii":
		if s == "ii" {
			return "ii"
		}
		return "jr"
	case "sr", "senior", "sen":
		return "sr"
	case "iii", "iv":
		return s
	}
	return ""
}

// parseName builds the name of ev: N's components when it has a given or
// family name, else FN parsed ("Smith, John", "Dr. John A. Smith Jr.",
// "Ludwig van Beethoven"). A first name in FN that differs from N's (FN
// "Bob Smith", N "Smith;Robert") and the nicknames become aliases. The
// given names' forms are appended to *forms, a batch's shared array (see
// batch), or, if forms is nil, to an array of their own.
func parseName(ev *Evidence, forms *[]form) name {
	var n name
	n.scan = ev.Scanned
	var fn name
	hasN := strings.TrimSpace(ev.Given) != "" || strings.TrimSpace(ev.Family) != ""
	switch {
	case !namelike(ev.FN):
		// An FN that is an email address or a number names no one.
	case !hasN && ev.Org != "" && orgForm(ev.FN) == orgForm(ev.Org):
		// A company's card: FN repeats ORG.
	default:
		fn = parseFN(ev.FN)
	}
	if hasN {
		if g := loose(ev.Given); g != "" {
			n.given = append(n.given, g) // loose keeps single spaces between words
		}
		n.family = loose(ev.Family)
		n.middle = loose(ev.Middle)
		for _, t := range strings.Fields(loose(ev.Suffix)) {
			if s := normSuffix(t); s != "" {
				n.suffix = s
			}
		}
		if n.suffix == "" {
			n.suffix = fn.suffix
		}
		if n.family == "" && len(n.given) == 1 && fn.family != "" && fn.first() == n.first() {
			n.family = fn.family
		}
		if len(n.given) == 0 && fn.family == n.family {
			n.given = fn.given
		}
		for _, g := range fn.given {
			if len(n.given) == 0 && g == n.family {
				continue // FN is the family name alone: no given name
			}
			n.addAlias(g)
		}
	} else {
		n = fn
		n.scan = ev.Scanned
	}
	for _, nick := range ev.Nicknames {
		n.addAlias(loose(nick))
	}
	if !n.person() && ev.Org != "" {
		n.org = orgForm(ev.Org)
	}
	n.compile(forms)
	return n
}

// namelike reports whether an FN can be a name: it has a letter and is not
// an email address.
func namelike(fn string) bool {
	if strings.ContainsRune(fn, '@') {
		return false
	}
	for _, r := range fn {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func (n *name) addAlias(g string) {
	if g == "" || len(n.given) == 0 {
		if g != "" {
			n.given = append(n.given, g)
		}
		return
	}
	for _, x := range n.given {
		if x == g {
			return
		}
	}
	n.given = append(n.given, g)
}

// parseFN parses a formatted name into a name.
func parseFN(fn string) name {
	var n name
	s := strings.TrimSpace(fn)
	if s == "" {
		return n
	}
	// Quoted or bracketed parts are nicknames: Robert "Bob" Smith, Robert (Bob) Smith.
	var nicks []string
	for _, q := range [][2]string{{`"`, `"`}, {"(", ")"}, {"“", "”"}, {"'", "'"}} {
		for {
			i := strings.Index(s, q[0])
			if i < 0 {
				break
			}
			j := strings.Index(s[i+len(q[0]):], q[1])
			if j < 0 {
				break
			}
			nicks = append(nicks, s[i+len(q[0]):i+len(q[0])+j])
			s = s[:i] + " " + s[i+len(q[0])+j+len(q[1]):]
		}
	}
	var family string
	if i := strings.IndexByte(s, ','); i >= 0 {
		before, after := s[:i], s[i+1:]
		if allSuffixes(after) {
			n.suffix = suffixOf(after)
			s = before
		} else {
			family = loose(before)
			s = after
			if j := strings.IndexByte(s, ','); j >= 0 {
				n.suffix = suffixOf(s[j+1:])
				s = s[:j]
			}
		}
	}
	// Split at white space first, so a hyphenated name stays one part.
	var toks []string
	for _, raw := range strings.Fields(s) {
		if t := loose(raw); t != "" {
			toks = append(toks, t)
		}
	}
	for len(toks) > 0 && prefixes[toks[0]] && (len(toks) > 1 || family != "") {
		toks = toks[1:]
	}
	for len(toks) > 1 && (suffixes[toks[len(toks)-1]]) {
		if sfx := normSuffix(toks[len(toks)-1]); sfx != "" {
			n.suffix = sfx
		}
		toks = toks[:len(toks)-1]
	}
	if family != "" {
		n.family = family
		if len(toks) > 0 {
			n.given = []string{toks[0]}
			n.middle = strings.Join(toks[1:], " ")
		}
	} else {
		switch len(toks) {
		case 0:
		case 1:
			n.given = []string{toks[0]}
		default:
			end := len(toks) - 1
			for k := 1; k < len(toks)-1; k++ {
				if particles[toks[k]] {
					end = k
					break
				}
			}
			n.given = []string{toks[0]}
			n.middle = strings.Join(toks[1:end], " ")
			n.family = strings.Join(toks[end:], " ")
		}
	}
	for _, k := range nicks {
		n.addAlias(loose(k))
	}
	return n
}

func allSuffixes(s string) bool {
	toks := strings.Fields(loose(s))
	if len(toks) == 0 {
		return false
	}
	for _, t := range toks {
		if !suffixes[t] {
			return false
		}
	}
	return true
}

func suffixOf(s string) string {
	for _, t := range strings.Fields(loose(s)) {
		if x := normSuffix(t); x != "" {
			return x
		}
	}
	return ""
}

// orgForm folds an organisation name and drops its legal form, so that
// "ACME GmbH" and "Acme" agree.
func orgForm(s string) string {
	toks := strings.Fields(loose(s))
	for len(toks) > 1 && legalForms[toks[len(toks)-1]] {
		toks = toks[:len(toks)-1]
	}
	return strings.Join(toks, " ")
}

var legalForms = setOf("gmbh ag kg ohg ug inc incorporated ltd limited llc llp plc corp corporation co company sa sas sarl sl srl bv nv oy ab as spa se mbh kgaa")

// form is a name part precomputed for comparison.
type form struct {
	s       string  // loose-folded, words separated by one space
	flat    string  // s without spaces
	ocr     string  // ocrForm(flat)
	first   string  // first word of s
	groups  []int32 // nickname groups of flat
	fgroups []int32 // nickname groups of first, when first != flat
	letters uint64  // letterMask(flat)
}

func makeForm(s string) form {
	f := form{s: s, flat: strings.ReplaceAll(s, " ", ""), first: firstWord(s)}
	f.ocr = ocrForm(f.flat)
	f.letters = letterMask(f.flat)
	f.groups = nicknames().byName[f.flat]
	if f.first != f.flat {
		f.fgroups = nicknames().byName[f.first]
	} else {
		f.fgroups = f.groups
	}
	return f
}

// compile precomputes the forms nameRel compares, the given names' appended
// to *forms (nil: an array of their own).
func (n *name) compile(forms *[]form) {
	if forms == nil {
		own := make([]form, 0, len(n.given))
		forms = &own
	}
	at := len(*forms)
	for _, g := range n.given {
		*forms = append(*forms, makeForm(g))
	}
	n.gf = (*forms)[at:len(*forms):len(*forms)]
	if n.family != "" {
		n.ff = makeForm(n.family)
		if len(n.middle) > 1 {
			f := makeForm(n.middle + " " + n.family)
			n.altFam = &f
		}
	}
}

// rel is how two names relate, from worst to best.
type rel int8

const (
	relConflict rel = iota // clearly different people
	relUnknown             // one side has no name to compare
	relWeak                // compatible, but only by an initial, a missing part or a near spelling
	relOCR                 // the same name but for OCR slips in a scanned card
	relSame                // the same name, allowing nicknames, transliterations and swapped order
)

// nameRel compares two names and says how, in words for reasons.
func nameRel(a, b *name) (rel, string) {
	switch {
	case a.org != "" || b.org != "":
		if a.org != "" && b.org != "" {
			if a.org == b.org {
				return relSame, "same organisation"
			}
			return relConflict, ""
		}
		if a.person() || b.person() {
			return relConflict, ""
		}
		return relUnknown, ""
	case !a.person() || !b.person():
		return relUnknown, ""
	}
	ocr := a.scan || b.scan
	r, how := personRel(a.gf, &a.ff, b.gf, &b.ff, ocr)
	if r == relConflict && a.family != "" && len(a.gf) > 0 {
		// Swapped order: "Smith John" against "John Smith": the family
		// name as a given name.
		switch r2, _ := personRel([]form{a.ff}, &a.gf[0], b.gf, &b.ff, ocr); r2 {
		case relSame:
			return relSame, "in swapped order"
		case relWeak, relOCR:
			return relWeak, "in swapped order"
		}
	}
	if r == relConflict && (a.altFam != nil || b.altFam != nil) {
		af, bf := &a.ff, &b.ff
		if a.altFam != nil {
			af = a.altFam
		}
		if b.altFam != nil {
			bf = b.altFam
		}
		if r2, _ := personRel(a.gf, af, b.gf, bf, ocr); r2 != relConflict && a.suffix == b.suffix {
			return relWeak, "part of a double name"
		}
	}
	if r == relConflict {
		return r, ""
	}
	if a.suffix != "" && b.suffix != "" && a.suffix != b.suffix {
		return relConflict, ""
	}
	if a.middle != "" && b.middle != "" && a.middle[0] != b.middle[0] {
		if !ocr || ocrFold(a.middle[:1]) != ocrFold(b.middle[:1]) {
			return relConflict, ""
		}
	}
	return r, how
}

// personRel compares given and family names.
func personRel(ag []form, af *form, bg []form, bf *form, ocr bool) (rel, string) {
	gr, ghow := givenRel(ag, bg, ocr)
	if gr == relConflict {
		return relConflict, ""
	}
	fr, fhow := familyRel(af, bf, ocr)
	if fr == relConflict {
		return relConflict, ""
	}
	how := ghow
	if fhow != "" {
		if how != "" && how != fhow {
			how += ", " + fhow
		} else {
			how = fhow
		}
	}
	switch {
	case gr == relSame && fr == relSame:
		return relSame, how
	case gr >= relOCR && fr >= relOCR:
		return relOCR, how
	case gr == relUnknown && fr == relUnknown:
		return relUnknown, how
	}
	return relWeak, how
}

// givenRel compares given names with their aliases: the best pair counts.
func givenRel(a, b []form, ocr bool) (rel, string) {
	if len(a) == 0 || len(b) == 0 {
		return relUnknown, ""
	}
	best, how := relConflict, ""
	for i := range a {
		for j := range b {
			r, h := givenPair(&a[i], &b[j], ocr)
			if r > best {
				best, how = r, h
				if best == relSame && h == "" {
					return best, ""
				}
			}
		}
	}
	return best, how
}

func givenPair(x, y *form, ocr bool) (rel, string) {
	if x.flat == y.flat {
		if len(x.flat) == 1 {
			return relWeak, "initial"
		}
		return relSame, ""
	}
	if intersects(x.groups, y.groups) {
		return relSame, "nickname"
	}
	xf, yf := x.first, y.first
	if len(xf) == 1 || len(yf) == 1 {
		long := y
		if len(yf) == 1 {
			xf, yf, long = yf, xf, x
		}
		if xf[0] == yf[0] || nicknames().hasInitial(long.fgroups, xf[0]) {
			return relWeak, "initial"
		}
		return relConflict, ""
	}
	if xf == yf || intersects(x.fgroups, y.fgroups) {
		return relWeak, "first given name"
	}
	if ocr {
		if x.ocr == y.ocr {
			return relOCR, "OCR slip"
		}
		if nicknames().sameNickOCR(x.ocr, y.groups) || nicknames().sameNickOCR(y.ocr, x.groups) {
			return relOCR, "nickname with an OCR slip"
		}
	}
	if len(x.flat) >= 5 && len(y.flat) >= 5 && within1(x.flat, y.flat) {
		return relWeak, "near spelling"
	}
	return relConflict, ""
}

func intersects(a, b []int32) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func familyRel(a, b *form, ocr bool) (rel, string) {
	if a.s == "" || b.s == "" {
		return relUnknown, ""
	}
	if a.flat == b.flat {
		return relSame, ""
	}
	if ocr && a.ocr == b.ocr {
		return relOCR, "OCR slip"
	}
	if (strings.IndexByte(a.s, ' ') >= 0 || strings.IndexByte(b.s, ' ') >= 0) && (subsetWords(a.s, b.s) || subsetWords(b.s, a.s)) {
		return relWeak, "part of a double name"
	}
	if len(a.flat) >= 6 && len(b.flat) >= 6 && within1(a.flat, b.flat) {
		return relWeak, "near spelling"
	}
	return relConflict, ""
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// subsetWords reports whether every word of a, particles aside, is a word of b.
func subsetWords(a, b string) bool {
	n := 0
	for w := range strings.FieldsSeq(a) {
		if particles[w] {
			continue
		}
		found := false
		for v := range strings.FieldsSeq(b) {
			if v == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
		n++
	}
	return n > 0
}

// within1 reports whether a and b differ by at most one edit (insert, delete,
// substitute or swap of neighbours).
func within1(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		return true
	}
	if len(a) == len(b) {
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	}
	return a[i:] == b[i+1:]
}
