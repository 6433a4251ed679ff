package match

import (
	"strings"

	"kith/sync/normalize"
)

// phone kinds, from the TYPE parameter.
const (
	kindOther uint8 = iota
	kindCell
	kindHome
	kindWork
	kindFax
)

var kindNames = [...]string{"phone", "mobile", "home phone", "work phone", "fax"}

type pemail struct {
	full   string // normalised, sub-address (+tag) removed
	local  string
	domain string
	role   bool // a role mailbox (info@): see roleMailbox
	// ocr and ocrDomain are full and domain through ocrLoose, for scans.
	ocr, ocrDomain string
}

type pphone struct {
	e164 string
	kind uint8
}

// rec is one record's evidence in normalised form.
type rec struct {
	nm     name
	emails []pemail
	phones []pphone
	org    string
	title  string
	addrs  []string
	post   []paddr
	bday   date
	// personal counts the emails that are not role mailboxes.
	personal int
	scanned  bool
	disp     string // the name as written, for reasons
}

// manyLines is the number of lines of one kind past which prepare finds
// duplicates through a map.
const manyLines = 16

// lineIndexOf finds the lines of one kind a record keeps by their key. A
// record's lines are few and are found by a scan of those kept (nil);
// past manyLines (a card with 100k EMAIL lines must not cost 10^10
// comparisons) through the map.
type lineIndexOf[K comparable] map[K]int

// lineIndex returns the index for a card with that many lines of a kind.
func lineIndex[K comparable](lines int) lineIndexOf[K] {
	if lines > manyLines {
		return lineIndexOf[K]{}
	}
	return nil
}

// add notes that the line with key k is kept at i.
func (x lineIndexOf[K]) add(k K, i int) {
	if x != nil {
		x[k] = i
	}
}

// indexOf returns where in kept the line with key k is, or -1.
func indexOf[T any, K comparable](x lineIndexOf[K], kept []T, k K, key func(*T) K) int {
	if x != nil {
		if i, ok := x[k]; ok {
			return i
		}
		return -1
	}
	for i := range kept {
		if key(&kept[i]) == k {
			return i
		}
	}
	return -1
}

// batch holds the values of a batch of records in shared arrays, one
// record's after another's in the order they are prepared: a slice a
// record would cost an allocation each, and comparing reads a record's
// values side by side (see compact).
type batch struct {
	forms  []form
	emails []pemail
	phones []pphone
	addrs  []string
	post   []paddr
}

// newBatch returns a batch sized for the records of evs, so that the
// arrays need not grow (but for a name of many aliases).
func newBatch(evs []Evidence, order []int32) *batch {
	var forms, emails, phones, addrs int
	for _, i := range order {
		ev := &evs[i]
		forms += 2 + len(ev.Nicknames)
		emails += len(ev.Emails)
		phones += len(ev.Phones)
		addrs += len(ev.Addresses)
	}
	return &batch{forms: make([]form, 0, forms), emails: make([]pemail, 0, emails), phones: make([]pphone, 0, phones),
		addrs: make([]string, 0, addrs), post: make([]paddr, 0, addrs)}
}

// tail returns the free end of a batch's array, for a record's values to
// be appended to in place.
func tail[T any](arr []T) []T { return arr[len(arr):] }

// claim counts a record's values, appended to tail(*arr), into *arr and
// returns them capped, so that no append writes over the next record's;
// values that outgrew the tail were moved to an array of their own, and
// stay there.
func claim[T any](arr *[]T, mine []T) []T {
	if len(mine) == 0 {
		return nil
	}
	n := len(*arr)
	if cap(*arr)-n >= len(mine) && &(*arr)[:n+1][n] == &mine[0] {
		*arr = (*arr)[:n+len(mine)]
		return (*arr)[n : n+len(mine) : n+len(mine)]
	}
	return mine[:len(mine):len(mine)]
}

// prepare normalises ev into r, which must be zero, its values in bt's
// arrays. Written in place, a record is not copied (a copy of its
// pointers while the collector runs costs write barriers).
func prepare(r *rec, ev *Evidence, nz *normalize.Normalizer, bt *batch) {
	r.scanned = ev.Scanned
	r.nm = parseName(ev, &bt.forms)
	r.disp = displayOf(ev)
	r.emails, r.phones, r.addrs, r.post = tail(bt.emails), tail(bt.phones), tail(bt.addrs), tail(bt.post)
	emailAt, phoneAt := lineIndex[string](len(ev.Emails)), lineIndex[string](len(ev.Phones))
	for _, e := range ev.Emails {
		if ev.Scanned {
			e = strings.ReplaceAll(e, " ", "")
		}
		n := nz.Email(e)
		if n == "" {
			continue
		}
		at := strings.LastIndexByte(n, '@')
		local, domain := n[:at], n[at+1:]
		if i := strings.IndexByte(local, '+'); i > 0 {
			local = local[:i]
		}
		if domain == "googlemail.com" {
			domain = "gmail.com"
		}
		if domain == "gmail.com" {
			local = strings.ReplaceAll(local, ".", "")
		}
		pe := pemail{full: local + "@" + domain, local: local, domain: domain, role: roleMailbox(local)}
		pe.ocr, pe.ocrDomain = ocrLoose(pe.full), ocrLoose(domain)
		if indexOf(emailAt, r.emails, pe.full, func(e *pemail) string { return e.full }) < 0 {
			emailAt.add(pe.full, len(r.emails))
			r.emails = append(r.emails, pe)
		}
	}
	for _, p := range ev.Phones {
		num := p.Number
		if ev.Scanned {
			if len(num) >= 4 && strings.EqualFold(num[:4], "tel:") {
				num = num[4:]
			}
			num = ocrDigits(num)
		}
		e, _ := nz.Phone(num)
		if digits(e) < 6 {
			continue
		}
		k := phoneKind(p.Types)
		if i := indexOf(phoneAt, r.phones, e, func(p *pphone) string { return p.e164 }); i >= 0 {
			if r.phones[i].kind == kindOther || r.phones[i].kind == kindFax && k != kindOther {
				r.phones[i].kind = k
			}
		} else {
			phoneAt.add(e, len(r.phones))
			r.phones = append(r.phones, pphone{e164: e, kind: k})
		}
	}
	r.org = orgForm(ev.Org)
	r.title = loose(ev.Title)
	addrAt, postAt := lineIndex[string](len(ev.Addresses)), lineIndex[paddr](len(ev.Addresses))
	for _, a := range ev.Addresses {
		if f := addressForm(a.line()); f != "" && indexOf(addrAt, r.addrs, f, func(s *string) string { return *s }) < 0 {
			addrAt.add(f, len(r.addrs))
			r.addrs = append(r.addrs, f)
		}
	}
	for _, a := range ev.Addresses {
		if pa := prepAddress(a); pa != (paddr{}) && indexOf(postAt, r.post, pa, func(p *paddr) paddr { return *p }) < 0 {
			postAt.add(pa, len(r.post))
			r.post = append(r.post, pa)
		}
	}
	r.emails, r.phones = claim(&bt.emails, r.emails), claim(&bt.phones, r.phones)
	r.addrs, r.post = claim(&bt.addrs, r.addrs), claim(&bt.post, r.post)
	r.bday = parseDate(ev.Birthday)
	r.personal = personal(r.emails)
}

// compareSortKeys orders records in large blocks so that namesakes sit
// together: by given name, family name and organisation joined by "|",
// as strings.Compare orders those joined strings, without joining them
// (a string a record would cost an allocation each).
func compareSortKeys(a, b *rec) int {
	return compareJoined(&[3]string{a.nm.first(), a.nm.family, a.nm.org}, &[3]string{b.nm.first(), b.nm.family, b.nm.org})
}

// compareJoined compares x[0]+"|"+x[1]+"|"+x[2] with the same of y, as
// strings.Compare does.
func compareJoined(x, y *[3]string) int {
	if x[0] == y[0] && x[1] == y[1] {
		// Namesakes, the common case in a large block.
		return strings.Compare(x[2], y[2])
	}
	// Segment k of a joined string: part k/2, or the "|" between parts.
	seg := func(p *[3]string, k int) string {
		if k%2 == 1 {
			return "|"
		}
		return p[k/2]
	}
	kx, ky := 0, 0
	a, b := x[0], y[0]
	for {
		for a == "" && kx < 4 {
			kx++
			a = seg(x, kx)
		}
		for b == "" && ky < 4 {
			ky++
			b = seg(y, ky)
		}
		if a == "" || b == "" {
			return boolInt(b == "") - boolInt(a == "")
		}
		n := min(len(a), len(b))
		if c := strings.Compare(a[:n], b[:n]); c != 0 {
			return c
		}
		a, b = a[n:], b[n:]
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// displayOf returns the name as the card writes it, for reasons.
func displayOf(ev *Evidence) string {
	if s := words(ev.FN); s != "" {
		return s
	}
	if s := words(ev.Given + " " + ev.Family); s != "" {
		return s
	}
	if ev.Org != "" {
		return ev.Org
	}
	if len(ev.Emails) > 0 {
		return ev.Emails[0]
	}
	return ev.Key
}

// words returns s's words with single spaces between them, as
// strings.Join(strings.Fields(s), " ") does, and s itself when it is so
// written already (most names are).
func words(s string) string {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
		if c >= 0x80 || sp && (c != ' ' || prevSpace) {
			return strings.Join(strings.Fields(s), " ")
		}
		prevSpace = sp
	}
	if prevSpace {
		return strings.Join(strings.Fields(s), " ")
	}
	return s
}

// ocrDigits repairs the letters a scanner reads in place of digits in a phone
// number: O and o for 0, l, I and | for 1, S for 5, B for 8.
func ocrDigits(s string) string {
	if !strings.ContainsAny(s, "OolI|SB") {
		return s
	}
	return ocrDigitReplacer.Replace(s)
}

var ocrDigitReplacer = strings.NewReplacer("O", "0", "o", "0", "l", "1", "I", "1", "|", "1", "S", "5", "B", "8")

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

func phoneKind(types []string) uint8 {
	k := kindOther
	for _, t := range types {
		switch t {
		case "fax":
			return kindFax
		case "cell", "mobile", "iphone", "cellular":
			k = kindCell
		case "home":
			if k == kindOther {
				k = kindHome
			}
		case "work":
			if k == kindOther {
				k = kindWork
			}
		}
	}
	return k
}

// addressForm folds a one-line address and its common abbreviations, so that
// "Hauptstr. 5" and "Hauptstraße 5" agree.
func addressForm(s string) string {
	f := loose(strings.Map(func(r rune) rune {
		if r == ',' || r == ';' {
			return ' '
		}
		return r
	}, s))
	toks := strings.Fields(f)
	for i, t := range toks {
		if a, ok := streetAbbrev[t]; ok {
			toks[i] = a
			continue
		}
		switch {
		case strings.HasSuffix(t, "strasse") || strings.HasSuffix(t, "str"):
			toks[i] = strings.TrimSuffix(strings.TrimSuffix(t, "strasse"), "str") + "str"
		}
	}
	return strings.Join(toks, " ")
}

// streetAbbrev writes street types one way.
var streetAbbrev = map[string]string{
	"street": "st", "road": "rd", "avenue": "ave", "av": "ave", "place": "pl", "crescent": "cres",
	"circuit": "cct", "drive": "dr", "court": "ct", "close": "cl", "lane": "ln", "terrace": "tce",
	"parade": "pde", "highway": "hwy", "boulevard": "blvd", "square": "sq", "circle": "cir",
	"grove": "gr", "way": "wy", "crt": "ct", "cr": "cres",
}

// roleLocal lists mailbox names that belong to a function, not a person.
var roleLocal = setOf("info office contact kontakt sales support hello hallo admin team mail post buero bureau service hr jobs careers noreply no-reply reception empfang billing accounts accounting invoice rechnung press presse marketing orders help webmaster postmaster enquiries inquiries general")

// date is a birthday; a zero component is unknown.
type date struct{ y, m, d int16 }

func (d date) known() bool { return d != date{} }

func (d date) full() bool { return d.y != 0 && d.m != 0 && d.d != 0 }

// parseDate reads BDAY in the forms address books write: 1980-04-12,
// 19800412, --0412, --04-12, 12.04.1980, 1980. Anything else is unknown.
func parseDate(s string) date {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "Tt "); i > 0 {
		s = s[:i]
	}
	var d date
	num := func(x string) int16 {
		if x == "" || len(x) > 4 {
			return -1
		}
		n := 0
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return -1
			}
			n = n*10 + int(x[i]-'0')
		}
		return int16(n)
	}
	switch {
	case strings.HasPrefix(s, "--"):
		t := strings.ReplaceAll(s[2:], "-", "")
		if len(t) == 4 {
			d.m, d.d = num(t[:2]), num(t[2:])
		}
	case strings.Count(s, ".") == 2:
		p := strings.Split(s, ".")
		d.d, d.m, d.y = num(p[0]), num(p[1]), num(p[2])
	case strings.Count(s, "-") == 2:
		p := strings.Split(s, "-")
		d.y, d.m, d.d = num(p[0]), num(p[1]), num(p[2])
	case len(s) == 8:
		d.y, d.m, d.d = num(s[:4]), num(s[4:6]), num(s[6:])
	case len(s) == 4:
		d.y = num(s)
	}
	if d.y < 0 || d.m < 0 || d.d < 0 || d.m > 12 || d.d > 31 || d.y > 0 && d.y < 1000 {
		return date{}
	}
	return d
}

// paddr is an address by folded component.
type paddr struct {
	ext, number, street, locality, region, postcode string
}

// prepAddress folds a's components: the street split into its number and
// its name with common abbreviations written one way.
func prepAddress(a Address) paddr {
	var p paddr
	p.ext = loose(a.Ext)
	p.locality = loose(a.Locality)
	p.region = loose(a.Region)
	p.postcode = strings.ReplaceAll(loose(a.Postcode), " ", "")
	var name []string
	for _, t := range strings.Fields(addressForm(a.Street)) {
		if p.number == "" && strings.ContainsAny(t, "0123456789") {
			p.number = t
			continue
		}
		name = append(name, t)
	}
	p.street = strings.Join(name, " ")
	return p
}
