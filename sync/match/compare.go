package match

import (
	"bytes"
	"math"
	"strings"
)

// Comparisons: each field of two records compares to one level. A level
// has its own m (how often the records of one person show it) and u (how
// often two records of different people do); its weight is log2(m/u).
const (
	cGiven = iota
	cFamily
	cBirthday
	cEmail
	cPhone
	cAddress
	cOrg
	cTitle
	nComp
)

// null marks a comparison one side has no value for: neither for nor against.
const null int8 = -1

// level describes one level of a comparison with its prior m and u.
type level struct {
	name   string
	m, u   float64
	agrees bool // an agreement: its weight is kept >= 0, a disagreement's <= 0
}

// comparison is one field's levels, in the order compare returns them.
type comparison struct {
	name   string
	levels []level
}

// comparisons are the fields compared and their levels with prior m and u,
// the starting point of estimation and what a tiny address book keeps.
var comparisons = [nComp]comparison{
	cGiven: {"given name", []level{
		{"different", 0.01, 0.96, false},
		{"similar", 0.05, 0.02, true},
		{"initial", 0.03, 0.004, true},
		{"one slip apart", 0.10, 0.003, true},
		{"nickname", 0.05, 0.0005, true},
		{"same", 0.73, 0.008, true},
	}},
	cFamily: {"family name", []level{
		{"different", 0.06, 0.97, false},
		{"similar", 0.04, 0.02, true},
		{"one slip apart", 0.10, 0.002, true},
		{"same", 0.80, 0.004, true},
	}},
	cBirthday: {"birthday", []level{
		{"different", 0.02, 0.97, false},
		{"year or day agree", 0.04, 0.02, true},
		{"one part off", 0.10, 0.006, true},
		{"day and month swapped", 0.02, 0.0001, true},
		{"same", 0.82, 0.0001, true},
		{"years a generation apart", 0.005, 0.55, false},
	}},
	cEmail: {"email", []level{
		{"different", 0.35, 0.995, false},
		{"different address at one organisation's domain", 0.02, 0.003, false},
		{"near spelling", 0.04, 0.0002, true},
		{"same role mailbox (unused)", 0.01, 0.002, true},
		{"same", 0.54, 0.000002, true},
	}},
	cPhone: {"phone", []level{
		{"different", 0.35, 0.99, false},
		{"different mobiles", 0.15, 0.99, false},
		{"same subscriber digits", 0.03, 0.0002, true},
		{"same", 0.25, 0.0005, true},
		{"same mobile", 0.22, 0.000002, true},
		{"same number, different mobiles", 0.01, 0.0002, true},
		{"same home phone", 0.10, 0.0003, true},
	}},
	cAddress: {"address", []level{
		{"different", 0.15, 0.95, false},
		{"same postcode or locality", 0.05, 0.04, true},
		{"same street", 0.05, 0.002, true},
		{"nearly the same", 0.15, 0.0002, true},
		{"same", 0.60, 0.0001, true},
	}},
	cOrg: {"organisation", []level{
		{"different", 0.30, 0.99, false},
		{"similar", 0.05, 0.003, true},
		{"same", 0.65, 0.005, true},
	}},
	cTitle: {"title", []level{
		{"different", 0.35, 0.95, false},
		{"similar", 0.10, 0.02, true},
		{"same", 0.55, 0.02, true},
	}},
}

// vector is a pair's level on every comparison (null when not compared).
type vector [nComp]int8

// pack makes a map key of v: 3 bits a comparison.
func (v *vector) pack() uint64 {
	var k uint64
	for _, l := range v {
		k = k<<3 | uint64(l+1)
	}
	return k
}

// Veto flags: evidence that two records are different people, strong enough
// that no group may hold both, whatever else agrees.
const (
	vetoSuffix    uint8 = 1 << iota // Jr. and Sr.
	vetoOrgEmail                    // different mailboxes at one organisation's domain
	vetoMiddle                      // different middle initials
	vetoKind                        // a company's card and a person's
	vetoWeight                      // a trait disagrees with vetoAt bits or more
	vetoHousehold                   // two of one household by vetoAt bits or more
)

// vetoWords name the veto flags for reasons.
var vetoWords = []string{"different generations (Jr./Sr.)", "different mailboxes at one organisation",
	"different middle names", "a company and a person", "a different given name or birthday",
	"two people of one household"}

// pairData is what compare finds about a pair.
type pairData struct {
	v vector
	// tf is the term-frequency adjustment in bits: how much rarer (positive)
	// or more common (negative) the agreeing values are than the typical one.
	tf [nComp]float32
	// veto holds Veto flags.
	veto uint8
	// how says, per comparison, what agreed or differed, for explanations.
	how [nComp]string
}

// compare compares records a and b on every field. With explain it also
// says how, in words.
func (m *matcher) compare(a, b *rec, explain bool) pairData {
	var p pairData
	for i := range p.v {
		p.v[i] = null
	}
	m.compareNames(a, b, &p, explain)
	compareBirthday(a, b, &p)
	m.compareEmails(a, b, &p, explain)
	m.comparePhones(a, b, &p, explain)
	m.compareAddresses(a, b, &p, explain)
	m.compareOrg(a, b, &p, explain)
	m.levelTF(a, b, &p)
	return p
}

// levelTF sets the term-frequency adjustments of p that follow from the
// levels of the names and the organisation alone, and keeps those of
// phone and email from counting against two cards of one organisation.
// compare and tfOf both end with it.
func (m *matcher) levelTF(a, b *rec, p *pairData) {
	na, nb := &a.nm, &b.nm
	if na.org != "" || nb.org != "" {
		if na.org != "" && nb.org != "" {
			// Two cards of one organisation: its switchboard and info@
			// address are shared with its people, and still identify it.
			p.tf[cPhone], p.tf[cEmail] = max(p.tf[cPhone], 0), max(p.tf[cEmail], 0)
		}
		return // a company's name was compared as the name, without them
	}
	if p.v[cGiven] == 5 {
		if len(nb.gf) > 0 {
			p.tf[cGiven] = m.tfAdjust(cGiven, nb.gf[0].flat)
		} else {
			p.tf[cGiven] = m.tfAdjust(cGiven, na.gf[0].flat)
		}
	}
	if p.v[cFamily] == 3 {
		if nb.family != "" {
			p.tf[cFamily] = m.tfAdjust(cFamily, nb.ff.flat)
		} else {
			p.tf[cFamily] = m.tfAdjust(cFamily, na.ff.flat)
		}
	}
	if p.v[cOrg] == 2 {
		p.tf[cOrg] = m.tfAdjust(cOrg, a.org)
	}
}

// tfOf returns the term-frequency adjustments compare finds for records a
// and b, given key, the levels compare found for them without term
// frequencies (vector.pack). The levels do not depend on term frequencies,
// so the names, the costliest comparison, are not compared again: their
// adjustments follow from their levels. The other fields are compared
// again only where their level can carry an adjustment.
func (m *matcher) tfOf(a, b *rec, key uint64) [nComp]float32 {
	p := pairData{v: unpack(key)}
	if p.v[cEmail] == 4 {
		m.compareEmails(a, b, &p, false)
	}
	if p.v[cPhone] >= 3 {
		// The phone's level may yet change with term frequencies (which
		// of two equal numbers counts, a home's or not): compared again.
		m.comparePhones(a, b, &p, false)
	}
	if p.v[cAddress] >= 3 {
		m.compareAddresses(a, b, &p, false)
	}
	m.levelTF(a, b, &p)
	return p.tf
}

// similarForms reports whether two name forms are similar: Jaro-Winkler
// 0.88 or more, or two edits apart when both have six letters or more.
func similarForms(x, y *form) bool {
	return mayBeSimilarForms(x, y) && (jaroWinkler(x.flat, y.flat) >= 0.88 || len(x.flat) >= 6 && len(y.flat) >= 6 && editsWithin(x.flat, y.flat, 2))
}

// compareNames compares two given names (with their aliases) and two family
// names and sets their levels in p (their term frequencies: levelTF).
func (m *matcher) compareNames(a, b *rec, p *pairData, explain bool) {
	na, nb := &a.nm, &b.nm
	if na.org != "" || nb.org != "" {
		if na.person() || nb.person() {
			p.veto |= vetoKind
		}
		if na.org != "" && nb.org != "" {
			lv, _ := fuzzyLevel(na.org, nb.org)
			p.v[cFamily] = int8(min(lv, 2)) + int8(boolInt(lv == 2))
			if explain {
				p.how[cFamily] = pairWords(na.org, nb.org)
			}
		}
		return
	}
	if !na.person() || !nb.person() {
		return
	}
	ocr := a.scanned || b.scanned
	gl, gh := givenLevel(na.gf, nb.gf, ocr)
	fl, fh := familyLevel(&na.ff, &nb.ff, ocr)
	// A single word (a given name only, or a family name only) may stand
	// in either place: compare it with both of the other name's parts.
	if lone(na) || lone(nb) {
		x, y := na, nb
		if !lone(x) {
			x, y = y, x
		}
		w := x.ff
		if x.family == "" {
			w = x.gf[0]
		}
		var yg *form
		if len(y.gf) > 0 {
			yg = &y.gf[0]
		}
		g2, f2 := null, null
		if yg != nil {
			g2, _ = givenLevel([]form{w}, y.gf, ocr)
		}
		if y.family != "" {
			f2, _ = familyLevel(&w, &y.ff, ocr)
		}
		if levelRank(cGiven, g2) >= levelRank(cFamily, f2) && g2 != null {
			gl, fl, gh, fh = g2, null, "", ""
		} else if f2 != null {
			gl, fl, gh, fh = null, f2, "", ""
		}
	} else if !(gl == 5 && fl == 3) && len(na.gf) > 0 && len(nb.gf) > 0 && na.family != "" && nb.family != "" {
		// Swapped order: the given name of one is the family name of the other.
		sg, _ := givenLevel([]form{na.ff}, nb.gf[:1], ocr)
		sf, _ := familyLevel(&na.gf[0], &nb.ff, ocr)
		if levelRank(cGiven, sg)+levelRank(cFamily, sf) > levelRank(cGiven, gl)+levelRank(cFamily, fl) {
			gl, fl, gh, fh = sg, sf, "in swapped order", "in swapped order"
		}
	}
	p.v[cGiven], p.v[cFamily] = gl, fl
	if na.suffix != "" && nb.suffix != "" && na.suffix != nb.suffix {
		p.veto |= vetoSuffix
	}
	if na.middle != "" && nb.middle != "" && na.middle[0] != nb.middle[0] && (!ocr || ocrFold(na.middle[:1]) != ocrFold(nb.middle[:1])) {
		p.veto |= vetoMiddle
	}
	if explain {
		p.how[cGiven] = joinHow(gh, pairWords(na.first(), nb.first()))
		p.how[cFamily] = joinHow(fh, pairWords(na.family, nb.family))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lone reports whether n is a single name word: a given name or a family
// name alone.
func lone(n *name) bool {
	return len(n.gf) == 0 && n.family != "" || len(n.gf) > 0 && n.family == ""
}

// levelRank orders a comparison's levels by their prior weight, for
// choosing between readings of a name.
func levelRank(c int, l int8) float64 {
	if l == null {
		return 0
	}
	return levelRanks[c][l]
}

// levelRanks are the prior weights levelRank returns.
var levelRanks = func() (r [nComp][]float64) {
	for c := range comparisons {
		for _, lv := range comparisons[c].levels {
			r[c] = append(r[c], math.Log2(lv.m/lv.u))
		}
	}
	return r
}()

func joinHow(how, words string) string {
	if how == "" {
		return words
	}
	return how + ", " + words
}

// pairWords renders two values for a reason: "ann" or "ann / anne".
func pairWords(a, b string) string {
	if a == b {
		return a
	}
	return a + " / " + b
}

// givenLevel compares given names with aliases; the best pair counts.
// Levels: 0 different, 1 similar, 2 initial, 3 one slip apart, 4 nickname, 5 same.
func givenLevel(a, b []form, ocr bool) (int8, string) {
	if len(a) == 0 || len(b) == 0 {
		return null, ""
	}
	best, how := int8(0), ""
	for i := range a {
		for j := range b {
			l, h := givenPairLevel(&a[i], &b[j], ocr)
			if l > best {
				best, how = l, h
			}
		}
	}
	return best, how
}

func givenPairLevel(x, y *form, ocr bool) (int8, string) {
	if x.flat == y.flat {
		if len(x.flat) == 1 {
			return 2, "initial"
		}
		return 5, ""
	}
	if intersects(x.groups, y.groups) {
		return 4, "nickname"
	}
	xf, yf := x.first, y.first
	if len(xf) == 1 || len(yf) == 1 {
		long := y
		if len(yf) == 1 {
			xf, yf, long = yf, xf, x
		}
		if xf[0] == yf[0] || nicknames().hasInitial(long.fgroups, xf[0]) {
			return 2, "initial"
		}
		return 0, ""
	}
	if xf == yf || intersects(x.fgroups, y.fgroups) {
		return 3, "first given name"
	}
	if x.ocr == y.ocr {
		return 3, "OCR slip"
	}
	if ocr && (nicknames().sameNickOCR(x.ocr, y.groups) || nicknames().sameNickOCR(y.ocr, x.groups)) {
		return 4, "nickname with an OCR slip"
	}
	if len(x.flat) >= 4 && len(y.flat) >= 4 && within1(x.flat, y.flat) {
		return 3, "one slip apart"
	}
	if similarForms(x, y) {
		return 1, "similar"
	}
	if shortForm(x.flat, y.flat) {
		return 1, "short form"
	}
	return 0, ""
}

// shortForm reports whether the shorter of a and b, three letters or more,
// begins or ends the longer: Seun for Oluwaseun, Alex for Alexandra, a
// nickname the table does not know.
func shortForm(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= 3 && len(b) > len(a) && (strings.HasPrefix(b, a) || strings.HasSuffix(b, a))
}

// familyLevel compares family names. Levels: 0 different, 1 similar, 2 one
// slip apart (or one part of a double name), 3 same.
func familyLevel(a, b *form, ocr bool) (int8, string) {
	if a.s == "" || b.s == "" {
		return null, ""
	}
	if a.flat == b.flat {
		return 3, ""
	}
	if a.ocr == b.ocr {
		return 2, "OCR slip"
	}
	if (strings.IndexByte(a.s, ' ') >= 0 || strings.IndexByte(b.s, ' ') >= 0) && (subsetWords(a.s, b.s) || subsetWords(b.s, a.s)) {
		return 2, "part of a double name"
	}
	if len(a.flat) >= 4 && len(b.flat) >= 4 && within1(a.flat, b.flat) {
		return 2, "one slip apart"
	}
	if similarForms(a, b) {
		return 1, "similar"
	}
	return 0, ""
}

// fuzzyLevel compares two folded values: 0 different, 1 similar, 2 same.
func fuzzyLevel(a, b string) (int8, string) {
	switch {
	case a == "" || b == "":
		return null, ""
	case a == b:
		return 2, ""
	}
	// Without their spaces; most values have none, and those that do are
	// short enough for the conversions to stay on the stack.
	fa, fb := a, b
	if strings.IndexByte(a, ' ') >= 0 || strings.IndexByte(b, ' ') >= 0 {
		var ba, bb [32]byte
		fa, fb = string(withoutSpaces(ba[:0], a)), string(withoutSpaces(bb[:0], b))
	}
	if fa == fb || within1(fa, fb) || mayBeSimilar(fa, fb) && (sameOCRLoose(fa, fb) || jaroWinkler(fa, fb) >= 0.9) {
		return 1, "similar"
	}
	return 0, ""
}

// sameOCRLoose reports whether ocrLoose(a) == ocrLoose(b).
func sameOCRLoose(a, b string) bool {
	var ba, bb [64]byte
	return bytes.Equal(appendOCRLoose(ba[:0], a), appendOCRLoose(bb[:0], b))
}

// withoutSpaces appends s to b without its spaces.
func withoutSpaces(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	return b
}

// compareBirthday: 0 different, 1 year or day agree (one side partial), 2
// one part off, 3 day and month swapped, 4 same, 5 different with the
// years a generation apart.
func compareBirthday(a, b *rec, p *pairData) {
	x, y := a.bday, b.bday
	if !x.known() || !y.known() {
		return
	}
	if x.full() && y.full() {
		diff := boolInt(x.y != y.y) + boolInt(x.m != y.m) + boolInt(x.d != y.d)
		switch {
		case diff == 0:
			p.v[cBirthday] = 4
		case x.y == y.y && x.m == y.d && x.d == y.m:
			p.v[cBirthday] = 3
		case diff == 1:
			p.v[cBirthday] = 2
		case within1(dateDigits(x), dateDigits(y)):
			p.v[cBirthday] = 2
		default:
			p.v[cBirthday] = differentDate(x, y)
		}
		return
	}
	// One side lacks a part (--MMDD, a year alone): compare the parts
	// both have.
	var dx, dy date
	if x.y != 0 && y.y != 0 {
		dx.y, dy.y = x.y, y.y
	}
	if x.m != 0 && y.m != 0 {
		dx.m, dy.m = x.m, y.m
	}
	if x.d != 0 && y.d != 0 {
		dx.d, dy.d = x.d, y.d
	}
	switch {
	case dx == dy:
		p.v[cBirthday] = 1
	case dx.m != 0 && dx.d != 0 && dx.m == dy.d && dx.d == dy.m && (dx.y == dy.y):
		p.v[cBirthday] = 3
	case dx.m == dy.m && dx.d != 0 && (dx.d-dy.d == 1 || dy.d-dx.d == 1), within1(dateDigits(dx), dateDigits(dy)):
		// A day off by one, or a slip of one digit.
		p.v[cBirthday] = 2
	default:
		p.v[cBirthday] = differentDate(x, y)
	}
}

// generation is the difference of birth years from which two birthdays
// are a generation apart: a parent and child of one name.
const generation = 15

// differentDate is the level of two birthdays that do not agree: 5 when
// both years are known and a generation apart, else 0.
func differentDate(x, y date) int8 {
	if x.y != 0 && y.y != 0 && (x.y-y.y >= generation || y.y-x.y >= generation) {
		return 5
	}
	return 0
}

func dateDigits(d date) string {
	b := []byte{byte('0' + d.y/1000%10), byte('0' + d.y/100%10), byte('0' + d.y/10%10), byte('0' + d.y%10),
		byte('0' + d.m/10), byte('0' + d.m%10), byte('0' + d.d/10), byte('0' + d.d%10)}
	return string(b)
}

// freeMail are mail domains whose addresses belong to people, not to one
// organisation.
var freeMail = setOf("gmail.com googlemail.com yahoo.com yahoo.de yahoo.co.uk yahoo.fr hotmail.com hotmail.de hotmail.co.uk outlook.com outlook.de live.com live.de msn.com aol.com aol.de icloud.com me.com mac.com gmx.de gmx.net gmx.at gmx.ch gmx.com web.de t-online.de freenet.de posteo.de posteo.net mailbox.org proton.me protonmail.com pm.me yandex.ru mail.ru orange.fr free.fr laposte.net wanadoo.fr libero.it bluewin.ch btinternet.com fastmail.com zoho.com example.com example.org example.net")

// compareEmails: 0 different, 1 different mailboxes at one organisation's
// domain, 2 near spelling (OCR slips in a scan; one edit in the mailbox
// name at a mail provider: at an organisation's domain that is a
// colleague), 3 same role mailbox, 4 same. The same mailbox name at another domain does
// not count: namesakes write firstname.lastname everywhere.
func (m *matcher) compareEmails(a, b *rec, p *pairData, explain bool) {
	if a.personal == 0 || b.personal == 0 {
		return // a role mailbox (info@) says no more than the organisation
	}
	best, bestTF, what := int8(0), float32(0), ""
	sameDomain := false
	for _, x := range a.emails {
		for _, y := range b.emails {
			if x.role || y.role {
				continue
			}
			l := int8(0)
			switch {
			case x.full == y.full:
				l = 4
			case (a.scanned || b.scanned) && x.ocr == y.ocr,
				x.domain == y.domain && freeMail[x.domain] && len(x.local) >= 6 && editsWithin(x.local, y.local, 1) && digitsOf(x.local) == digitsOf(y.local) && !sameLetters(x.local, y.local):
				l = 2
			case x.domain == y.domain && !freeMail[x.domain],
				(a.scanned || b.scanned) && !freeMail[x.domain] && x.ocrDomain == y.ocrDomain:
				sameDomain = true
			}
			if l > best || l == best && l == 4 && m.tfAdjust(cEmail, x.full) > bestTF {
				best, what = l, pairWords(x.full, y.full)
				if l == 4 {
					bestTF = m.tfAdjust(cEmail, x.full)
				}
			}
		}
	}
	if best == 0 && sameDomain {
		best = 1
		p.veto |= vetoOrgEmail
	}
	p.v[cEmail] = best
	if best == 4 {
		p.tf[cEmail] = bestTF
	}
	if explain && best > 0 {
		p.how[cEmail] = what
	}
}

// roleMailbox reports whether local names a function (info, office), also
// with a scanner's digits for letters (inf0).
func roleMailbox(local string) bool {
	return roleLocal[local] || strings.ContainsAny(local, "015") && roleLocal[roleDigits.Replace(local)]
}

var roleDigits = strings.NewReplacer("0", "o", "1", "l", "5", "s")

// personal counts the emails that are not role mailboxes.
func personal(es []pemail) int {
	n := 0
	for _, e := range es {
		if !e.role {
			n++
		}
	}
	return n
}

// sameLetters reports whether two mailbox names differ only in their
// separators: sarah.obrien and sarah_obrien are the names namesakes take
// at one provider when the first is gone, not one person's slip.
func sameLetters(a, b string) bool {
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '.' || r == '_' || r == '-' {
				return -1
			}
			return r
		}, s)
	}
	return strip(a) == strip(b)
}

// digitsOf returns the digits of s: namesakes at one mail provider are
// told apart by a number (dieter_braun, dieter_braun2), a typo rarely is.
func digitsOf(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// comparePhones: 0 different, 1 different mobiles, 2 same subscriber
// digits (or the same fax), 3 same, 4 same mobile, 5 the same number but
// different mobiles, 6 the same home phone.
func (m *matcher) comparePhones(a, b *rec, p *pairData, explain bool) {
	if len(a.phones) == 0 || len(b.phones) == 0 {
		return
	}
	best, bestTF, what := int8(0), float32(0), ""
	home := false
	cellA, cellB := false, false
	for _, x := range a.phones {
		cellA = cellA || x.kind == kindCell
		for _, y := range b.phones {
			cellB = cellB || y.kind == kindCell
			l := int8(0)
			switch {
			case x.e164 == y.e164 && x.kind == kindFax || x.e164 == y.e164 && y.kind == kindFax:
				l = 2
			case x.e164 == y.e164 && (x.kind == kindCell || y.kind == kindCell):
				l = 4
			case x.e164 == y.e164:
				l = 3
			case len(x.e164) >= 9 && len(y.e164) >= 9 && x.e164[len(x.e164)-8:] == y.e164[len(y.e164)-8:]:
				l = 2
			}
			tf := float32(0)
			if l >= 3 {
				tf = m.tfAdjust(cPhone, x.e164)
				if x.kind == kindHome || y.kind == kindHome {
					// A landline is a household's: one family carrying it
					// does not make it any one person's.
					tf = min(tf, 0)
				}
			}
			if l > best || l == best && l >= 3 && tf > bestTF {
				best, bestTF, what = l, tf, pairWords(x.e164, y.e164)
				home = x.kind == kindHome || y.kind == kindHome
			}
		}
	}
	if cellA && cellB && best < 4 {
		// Both have a mobile and no mobile agrees: two people, or one
		// who changed numbers.
		switch {
		case best == 0:
			best = 1
		case best == 3:
			best = 5 // a household's landline or an office's line
		}
	}
	if best == 3 && home {
		best = 6 // a home's landline: the household's, as its address
	}
	p.v[cPhone] = best
	if best >= 3 {
		p.tf[cPhone] = bestTF
	}
	if best == 5 {
		p.tf[cPhone] = 0
	}
	if explain && best >= 2 {
		p.how[cPhone] = what
	}
}

// compareAddresses compares the best-agreeing pair of addresses. An
// address is one comparison, not one a component: its parts agree
// together (a household, an office), and counting each would count one
// fact five times. Levels: 0 different, 1 same postcode or locality, 2
// same street, 3 nearly the same (one part differs or is misspelt), 4 same.
func (m *matcher) compareAddresses(a, b *rec, p *pairData, explain bool) {
	if len(a.post) == 0 || len(b.post) == 0 {
		return
	}
	best, bi, bj := int8(-1), 0, 0
	for i := range a.post {
		for j := range b.post {
			if l := addressLevel(&a.post[i], &b.post[j]); l > best {
				best, bi, bj = l, i, j
			}
		}
	}
	p.v[cAddress] = best
	x, y := &a.post[bi], &b.post[bj]
	if best >= 3 {
		p.tf[cAddress] = m.tfAdjust(cAddress, x.key())
	}
	if explain {
		p.how[cAddress] = pairWords(x.line(), y.line())
	}
}

// key is the part of an address that names a building.
func (a *paddr) key() string { return a.postcode + "|" + a.number + "|" + a.street }

func (a *paddr) line() string {
	var parts []string
	for _, s := range []string{a.ext, strings.TrimSpace(a.number + " " + a.street), strings.TrimSpace(a.postcode + " " + a.locality)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// addressLevel compares two addresses part by part.
func addressLevel(x, y *paddr) int8 {
	var pc int8 = null
	switch {
	case x.postcode == "" || y.postcode == "":
	case x.postcode == y.postcode:
		pc = 2
	case within1(x.postcode, y.postcode):
		pc = 1
	default:
		pc = 0
	}
	var num int8 = null
	if x.number != "" && y.number != "" {
		num = 2 * int8(boolInt(x.number == y.number))
	}
	st, _ := fuzzyLevel(x.street, y.street)
	loc, _ := fuzzyLevel(x.locality, y.locality)
	ext, _ := fuzzyLevel(x.ext, y.ext)
	agree, exact, differ := 0, 0, 0
	for _, l := range []int8{pc, num, st, loc, ext} {
		switch l {
		case 0:
			differ++
		case 1:
			agree++
		case 2:
			agree++
			exact++
		}
	}
	switch {
	case differ == 0 && exact == agree && agree >= 3:
		return 4
	case agree >= 3 && differ <= 1, agree >= 2 && differ == 0 && st >= 1:
		return 3
	case st >= 1 && (loc >= 1 || pc >= 1 || num == 2), pc == 2 && num == 2:
		return 2
	case pc == 2 || loc >= 1:
		return 1
	}
	return 0
}

// compareOrg compares organisation and title of two people's cards.
func (m *matcher) compareOrg(a, b *rec, p *pairData, explain bool) {
	if a.nm.org != "" || b.nm.org != "" {
		return // a company's card: its name was compared as the name
	}
	p.v[cOrg], p.how[cOrg] = fuzzyLevel(a.org, b.org)
	p.v[cTitle], p.how[cTitle] = fuzzyLevel(a.title, b.title)
	if explain {
		p.how[cOrg] = joinHow(p.how[cOrg], pairWords(a.org, b.org))
		p.how[cTitle] = joinHow(p.how[cTitle], pairWords(a.title, b.title))
	}
}
