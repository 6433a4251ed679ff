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
}

type pphone struct {
	e164 string
	kind uint8
}

// rec is one record's evidence in normalised form.
type rec struct {
	nm      name
	emails  []pemail
	phones  []pphone
	org     string
	title   string
	addrs   []string
	scanned bool
	disp    string // the name as written, for reasons
	sortKey string // orders members of large blocks so namesakes sit together
}

// prepare normalises ev.
func prepare(ev *Evidence, nz *normalize.Normalizer) rec {
	r := rec{scanned: ev.Scanned}
	r.nm = parseName(ev)
	r.disp = displayOf(ev)
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
		pe := pemail{full: local + "@" + domain, local: local, domain: domain}
		if !containsEmail(r.emails, pe.full) {
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
		dup := false
		for i := range r.phones {
			if r.phones[i].e164 == e {
				dup = true
				if r.phones[i].kind == kindOther || r.phones[i].kind == kindFax && k != kindOther {
					r.phones[i].kind = k
				}
			}
		}
		if !dup {
			r.phones = append(r.phones, pphone{e164: e, kind: k})
		}
	}
	r.org = orgForm(ev.Org)
	r.title = loose(ev.Title)
	for _, a := range ev.Addresses {
		if f := addressForm(a.line()); f != "" && !contains(r.addrs, f) {
			r.addrs = append(r.addrs, f)
		}
	}
	r.sortKey = r.nm.first() + "|" + r.nm.family + "|" + r.nm.org
	return r
}

func containsEmail(es []pemail, full string) bool {
	for _, e := range es {
		if e.full == full {
			return true
		}
	}
	return false
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
	if s := strings.Join(strings.Fields(ev.FN), " "); s != "" {
		return s
	}
	if s := strings.Join(strings.Fields(ev.Given+" "+ev.Family), " "); s != "" {
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
		switch {
		case t == "st" || t == "street":
			toks[i] = "st"
		case t == "rd" || t == "road":
			toks[i] = "rd"
		case t == "ave" || t == "avenue":
			toks[i] = "ave"
		case strings.HasSuffix(t, "strasse") || strings.HasSuffix(t, "str"):
			toks[i] = strings.TrimSuffix(strings.TrimSuffix(t, "strasse"), "str") + "str"
		}
	}
	return strings.Join(toks, " ")
}

// roleLocal lists mailbox names that belong to a function, not a person.
var roleLocal = setOf("info office contact kontakt sales support hello hallo admin team mail post buero bureau service hr jobs careers noreply no-reply reception empfang billing accounts accounting invoice rechnung press presse marketing orders help webmaster postmaster enquiries inquiries general")
