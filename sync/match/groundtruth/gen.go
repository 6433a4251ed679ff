package groundtruth

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// Config shapes a generated world.
type Config struct {
	// Seed makes the world; equal seeds give equal worlds.
	Seed uint64
	// People is the number of people.
	People int
}

// World is a generated set of records with the truth about who is who.
type World struct {
	// Records in shuffled order.
	Records []Record
	// People indexed by Record.Person.
	People []Person
}

// Record is one generated card.
type Record struct {
	// Key is the record's unique key ("r000042").
	Key string
	// Card holds values raw, as described in package card.
	Card vcard.Card
	// Scanned is true for a business-card scan.
	Scanned bool
	// Person is the index of the person the record describes.
	Person int
	// Kind says what the record is: "phonebook", "work", "oldwork", "scan", "minimal".
	Kind string
}

// Person is the truth about one person.
type Person struct {
	// Given and Family are the person's name as the person writes it.
	Given, Family string
	// Household is the person's household, -1 for none; members share a
	// landline and an address.
	Household int
	// Company is the current employer, -1 for none; OldCompany the previous
	// one, -1 for none.
	Company, OldCompany int
	// Namesake is the index of the person whose name this person shares, or -1.
	Namesake int
}

type company struct {
	name, domain, switchboard, address string
	country                            int
}

type household struct {
	landline, address, email string
}

type personal struct {
	Person
	middle     string
	suffix     string
	mobile     string
	email      string
	workEmail  string
	oldEmail   string
	direct     string
	oldDirect  string
	title      string
	oldTitle   string
	country    int
	familyMail bool
}

// Generate builds a world from cfg.
func Generate(cfg Config) World {
	g := &gen{r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), used: map[string]bool{}}
	return g.world(cfg.People)
}

type gen struct {
	r         *rand.Rand
	used      map[string]bool // phone numbers and emails handed out
	companies []company
	homes     []household
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *gen) p(prob float64) bool       { return g.r.Float64() < prob }

func (g *gen) world(n int) World {
	nCompanies := max(1, n/12)
	for i := 0; i < nCompanies; i++ {
		g.companies = append(g.companies, g.company())
	}
	people := make([]personal, 0, n)
	for len(people) < n {
		// Households of two to four, mostly sharing a family name.
		if g.p(0.12) && n-len(people) >= 2 {
			size := 2 + g.r.IntN(3)
			size = min(size, n-len(people))
			h := len(g.homes)
			country := g.country()
			home := household{landline: g.landline(country), address: g.address(country)}
			family := g.family()
			if g.p(0.3) {
				home.email = g.unique(asciiFold(strings.ToLower(strings.ReplaceAll(family, " ", ""))) + ".family" + g.digits(2) + "@" + g.pick(mailProviders))
			}
			g.homes = append(g.homes, home)
			used := map[string]bool{}
			for k := 0; k < size; k++ {
				p := g.person(len(people), country)
				if g.p(0.85) {
					p.Family = family
				}
				for used[p.Given] {
					p.Given = g.given()
				}
				used[p.Given] = true
				p.Household = h
				p.familyMail = home.email != "" && g.p(0.7)
				p.email = g.personalEmail(p.Given, p.Family)
				people = append(people, p)
			}
			continue
		}
		p := g.person(len(people), g.country())
		if len(people) > 0 && g.p(0.04) {
			// A namesake: same name, nothing else in common.
			o := g.r.IntN(len(people))
			p.Given, p.Family, p.middle, p.suffix = people[o].Given, people[o].Family, "", ""
			p.Namesake = o
			p.email = g.personalEmail(p.Given, p.Family)
			if p.Company == people[o].Company && p.Company >= 0 {
				p.Company = (p.Company + 1) % len(g.companies)
			}
			if p.Company >= 0 {
				p.workEmail = g.workEmail(p.Given, p.Family, p.Company)
			}
		}
		people = append(people, p)
	}
	var w World
	for i := range people {
		w.People = append(w.People, people[i].Person)
		for _, rec := range g.records(&people[i]) {
			rec.Person = i
			w.Records = append(w.Records, rec)
		}
	}
	g.r.Shuffle(len(w.Records), func(i, j int) { w.Records[i], w.Records[j] = w.Records[j], w.Records[i] })
	for i := range w.Records {
		w.Records[i].Key = fmt.Sprintf("r%07d", i)
		w.Records[i].Card.SetValue(vcard.FieldUID, w.Records[i].Key)
	}
	return w
}

func (g *gen) person(i, country int) personal {
	p := personal{Person: Person{Given: g.given(), Family: g.family(), Household: -1, Company: -1, OldCompany: -1, Namesake: -1}, country: country}
	if g.p(0.15) {
		p.middle = g.given()
	}
	if g.p(0.02) {
		p.suffix = g.pick([]string{"Jr.", "Sr.", "III"})
	}
	p.mobile = g.mobile(country)
	p.email = g.personalEmail(p.Given, p.Family)
	if g.p(0.7) {
		p.Company = g.r.IntN(len(g.companies))
		p.workEmail = g.workEmail(p.Given, p.Family, p.Company)
		p.title = g.pick(titles)
		if g.p(0.5) {
			p.direct = g.direct(p.Company)
		}
		if g.p(0.15) {
			p.OldCompany = (p.Company + 1 + g.r.IntN(len(g.companies))) % len(g.companies)
			if p.OldCompany != p.Company {
				p.oldEmail = g.workEmail(p.Given, p.Family, p.OldCompany)
				p.oldTitle = g.pick(titles)
				if g.p(0.5) {
					p.oldDirect = g.direct(p.OldCompany)
				}
			} else {
				p.OldCompany = -1
			}
		}
	}
	return p
}

// records makes the person's cards: how many and of which kind follows what
// address books hold; every card after the first shares at least one
// personal identifier or the full name, organisation and title with an
// earlier one, as real duplicates do.
func (g *gen) records(p *personal) []Record {
	n := 1
	switch x := g.r.Float64(); {
	case x < 0.40:
	case x < 0.70:
		n = 2
	case x < 0.88:
		n = 3
	default:
		n = 4
	}
	var kinds []string
	kinds = append(kinds, "phonebook")
	if p.Company >= 0 {
		kinds = append(kinds, "work", "scan")
		if p.OldCompany >= 0 {
			kinds = append(kinds, "oldwork")
		}
	}
	kinds = append(kinds, "minimal", "phonebook")
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	kinds = kinds[:min(n, len(kinds))]
	var out []Record
	var ids [][]string
	for k, kind := range kinds {
		c, mine := g.card(p, kind)
		if k > 0 && !sharesAny(mine, ids) {
			// Add a personal identifier an earlier card has.
			prev := ids[g.r.IntN(len(ids))]
			if len(prev) > 0 {
				id := prev[g.r.IntN(len(prev))]
				g.addID(c, p, id, kind == "scan")
				mine = append(mine, id)
			}
		}
		ids = append(ids, mine)
		out = append(out, Record{Card: c, Scanned: kind == "scan", Kind: kind})
	}
	return out
}

func sharesAny(mine []string, ids [][]string) bool {
	for _, prev := range ids {
		for _, x := range prev {
			for _, y := range mine {
				if x == y {
					return true
				}
			}
		}
	}
	return false
}

// card builds one card of kind for p and returns the personal identifiers
// on it (mobile, emails, direct lines): those no one else carries.
func (g *gen) card(p *personal, kind string) (vcard.Card, []string) {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "3.0")
	scan := kind == "scan"
	given, family := g.nameVariant(p, kind)
	fn := g.fnVariant(p, given, family)
	if scan {
		given, family, fn = g.ocr(given), g.ocr(family), ""
		fn = strings.TrimSpace(given + " " + family)
	}
	if kind == "minimal" && g.p(0.3) {
		// Just a first name, as phones store people.
		fn, family = given, ""
	}
	c.SetValue(vcard.FieldFormattedName, card.EscapeText(fn))
	if kind != "minimal" || family != "" && g.p(0.5) {
		middle := ""
		if p.middle != "" && g.p(0.5) {
			middle = p.middle[:1] + "."
		}
		if !strings.Contains(fn, ",") || g.p(0.5) {
			c.SetValue(vcard.FieldName, card.JoinComponents(family, given, middle, "", p.suffix))
		}
	}
	var ids []string
	tel := func(num string, typ ...string) {
		if scan {
			num = g.ocrPhone(num)
		}
		f := &vcard.Field{Value: card.EscapeText(g.phoneFormat(num, p.country)), Params: vcard.Params{}}
		if len(typ) > 0 {
			f.Params[vcard.ParamType] = typ
		}
		c.Add(vcard.FieldTelephone, f)
	}
	mail := func(addr string, typ string) {
		if scan {
			addr = g.ocrEmail(addr)
		} else {
			addr = g.emailFormat(addr)
		}
		c.Add(vcard.FieldEmail, &vcard.Field{Value: card.EscapeText(addr), Params: vcard.Params{vcard.ParamType: {typ}}})
	}
	work := func(co int, email, direct, title string) {
		cp := &g.companies[co]
		c.SetValue(vcard.FieldOrganization, card.JoinComponents(g.orgVariant(cp.name)))
		if title != "" && g.p(0.8) {
			c.SetValue(vcard.FieldTitle, card.EscapeText(title))
		}
		if email != "" && g.p(0.9) {
			mail(email, "work")
			ids = append(ids, email)
		}
		if g.p(0.8) {
			tel(cp.switchboard, "work", "voice")
		}
		if direct != "" && g.p(0.8) {
			tel(direct, "work")
			ids = append(ids, direct)
		}
		if g.p(0.2) {
			mail("info@"+cp.domain, "work")
		}
		if g.p(0.4) {
			c.Add(vcard.FieldAddress, &vcard.Field{Value: cp.address, Params: vcard.Params{vcard.ParamType: {"work"}}})
		}
	}
	switch kind {
	case "phonebook":
		if g.p(0.85) {
			tel(p.mobile, "cell")
			ids = append(ids, p.mobile)
		}
		if g.p(0.7) {
			mail(p.email, "home")
			ids = append(ids, p.email)
		}
		if p.Household >= 0 {
			h := &g.homes[p.Household]
			if g.p(0.7) {
				tel(h.landline, "home")
			}
			if g.p(0.5) {
				c.Add(vcard.FieldAddress, &vcard.Field{Value: h.address, Params: vcard.Params{vcard.ParamType: {"home"}}})
			}
			if p.familyMail && g.p(0.6) {
				mail(h.email, "home")
			}
		}
		if g.p(0.15) && p.Company >= 0 {
			mail(p.workEmail, "work")
			ids = append(ids, p.workEmail)
		}
	case "work":
		work(p.Company, p.workEmail, p.direct, p.title)
		if g.p(0.4) {
			tel(p.mobile, "cell")
			ids = append(ids, p.mobile)
		}
	case "oldwork":
		work(p.OldCompany, p.oldEmail, p.oldDirect, p.oldTitle)
		if g.p(0.5) {
			tel(p.mobile, "cell")
			ids = append(ids, p.mobile)
		}
	case "scan":
		work(p.Company, p.workEmail, p.direct, p.title)
		if g.p(0.6) {
			tel(p.mobile, "cell")
			ids = append(ids, p.mobile)
		}
	case "minimal":
		if g.p(0.6) {
			tel(p.mobile, "cell")
			ids = append(ids, p.mobile)
		} else {
			mail(p.email, "home")
			ids = append(ids, p.email)
		}
	}
	if len(ids) == 0 && kind != "scan" {
		tel(p.mobile, "cell")
		ids = append(ids, p.mobile)
	}
	return c, ids
}

// addID puts identifier id (a number or an email of p) on c.
func (g *gen) addID(c vcard.Card, p *personal, id string, scan bool) {
	if strings.Contains(id, "@") {
		if scan {
			id = g.ocrEmail(id)
		}
		c.Add(vcard.FieldEmail, &vcard.Field{Value: card.EscapeText(id), Params: vcard.Params{}})
		return
	}
	typ := "cell"
	if id != p.mobile {
		typ = "work"
	}
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: card.EscapeText(g.phoneFormat(id, p.country)), Params: vcard.Params{vcard.ParamType: {typ}}})
}

// nameVariant returns the given and family name as this card writes them.
func (g *gen) nameVariant(p *personal, kind string) (given, family string) {
	given, family = p.Given, p.Family
	if asciiFold(given+family) != given+family && g.p(0.35) {
		// Names with diacritics lose them in many address books.
		if g.p(0.5) {
			return transliterate(given), transliterate(family)
		}
		return asciiFold(given), asciiFold(family)
	}
	switch x := g.r.Float64(); {
	case x < 0.15:
		if nicks := nicknamesOf[given]; len(nicks) > 0 {
			given = g.pick(nicks)
		}
	case x < 0.22:
		family = transliterate(family)
		given = transliterate(given)
	case x < 0.30:
		family = asciiFold(family)
		given = asciiFold(given)
	case x < 0.36 && kind != "minimal":
		given = string([]rune(given)[:1]) + "."
	case x < 0.40:
		family = strings.ToUpper(family)
	}
	return given, family
}

// fnVariant returns the FN a card writes.
func (g *gen) fnVariant(p *personal, given, family string) string {
	switch x := g.r.Float64(); {
	case x < 0.08:
		return family + ", " + given
	case x < 0.12:
		return g.pick([]string{"Dr. ", "Prof. ", "Mr. ", "Frau ", "Herr "}) + given + " " + family
	case x < 0.15 && p.suffix != "":
		return given + " " + family + " " + p.suffix
	case x < 0.18 && p.middle != "":
		return given + " " + p.middle + " " + family
	}
	return given + " " + family
}

func (g *gen) orgVariant(name string) string {
	switch x := g.r.Float64(); {
	case x < 0.2:
		return strings.ToUpper(name)
	case x < 0.4:
		return name + " " + g.pick([]string{"GmbH", "Inc.", "Ltd", "AG", "SARL"})
	}
	return name
}

// ocr puts one typical scanner slip into s with some probability.
func (g *gen) ocr(s string) string {
	if !g.p(0.5) {
		return s
	}
	slips := [][2]string{{"m", "rn"}, {"l", "1"}, {"o", "0"}, {"O", "0"}, {"e", "c"}}
	g.r.Shuffle(len(slips), func(i, j int) { slips[i], slips[j] = slips[j], slips[i] })
	for _, sl := range slips {
		if i := strings.Index(s, sl[0]); i >= 0 {
			return s[:i] + sl[1] + s[i+len(sl[0]):]
		}
	}
	return s
}

func (g *gen) ocrEmail(s string) string {
	if !g.p(0.3) {
		return s
	}
	at := strings.IndexByte(s, '@')
	return g.ocr(s[:at]) + s[at:]
}

func (g *gen) ocrPhone(s string) string {
	if !g.p(0.2) {
		return s
	}
	return strings.Replace(strings.Replace(s, "0", "O", 1), "1", "l", 1)
}

func (g *gen) emailFormat(addr string) string {
	switch x := g.r.Float64(); {
	case x < 0.1:
		return strings.ToUpper(addr[:1]) + addr[1:]
	case x < 0.15:
		return "mailto:" + addr
	case x < 0.2 && strings.HasSuffix(addr, "@gmail.com"):
		// Gmail ignores dots in the mailbox name; so must matching.
		return strings.ReplaceAll(strings.TrimSuffix(addr, "@gmail.com"), ".", "") + "@gmail.com"
	}
	return addr
}

// phoneFormat spells an E.164 number as people write it.
func (g *gen) phoneFormat(e164 string, country int) string {
	cc := countries[country].cc
	nsn := strings.TrimPrefix(e164, "+"+cc)
	if !strings.HasPrefix(e164, "+"+cc) {
		return e164
	}
	grouped := nsn[:3] + " " + nsn[3:]
	switch x := g.r.Float64(); {
	case x < 0.25:
		return e164
	case x < 0.45:
		return "+" + cc + " " + grouped
	case x < 0.55:
		return "00" + cc + " " + grouped
	case x < 0.65:
		return "+" + cc + "-" + nsn[:3] + "-" + nsn[3:]
	case x < 0.95 && cc == "49":
		// National spelling; the default region is DE.
		return "0" + nsn[:3] + " " + nsn[3:]
	case x < 0.95 && (cc == "44" || cc == "33"):
		return "+" + cc + " (0)" + grouped
	}
	return "+" + cc + " " + grouped
}

type countryInfo struct {
	cc       string
	mobile   []string // prefixes of the national significant number
	landline []string
	length   int // national significant number length
}

var countries = []countryInfo{
	{"49", []string{"151", "160", "170", "171", "172", "175", "176", "177"}, []string{"30", "40", "89", "221", "69", "711"}, 11},
	{"44", []string{"7700", "7911", "7400"}, []string{"20", "161", "131"}, 10},
	{"33", []string{"6", "7"}, []string{"1", "4", "5"}, 9},
	{"34", []string{"6", "7"}, []string{"91", "93", "95"}, 9},
	{"1", []string{"212", "415", "617"}, []string{"312", "206", "303"}, 10},
}

func (g *gen) country() int {
	switch x := g.r.Float64(); {
	case x < 0.55:
		return 0
	case x < 0.7:
		return 1
	case x < 0.8:
		return 2
	case x < 0.9:
		return 3
	}
	return 4
}

func (g *gen) number(country int, prefixes []string) string {
	ci := countries[country]
	for {
		pre := g.pick(prefixes)
		s := "+" + ci.cc + pre + g.digitsNZ(ci.length-len(pre))
		if ci.cc == "1" {
			s = "+1" + pre + fmt.Sprint(2+g.r.IntN(8)) + g.digits(6)
		}
		if !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func (g *gen) mobile(country int) string   { return g.number(country, countries[country].mobile) }
func (g *gen) landline(country int) string { return g.number(country, countries[country].landline) }

// direct returns a direct line next to the company's switchboard.
func (g *gen) direct(co int) string {
	sb := g.companies[co].switchboard
	for {
		s := sb[:len(sb)-3] + g.digitsNZ(3)
		if !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func (g *gen) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// digitsNZ is digits not starting with zero.
func (g *gen) digitsNZ(n int) string {
	if n <= 0 {
		return ""
	}
	return string(byte('1'+g.r.IntN(9))) + g.digits(n-1)
}

func (g *gen) unique(s string) string {
	base := s
	for i := 2; g.used[s]; i++ {
		at := strings.IndexByte(base, '@')
		s = fmt.Sprintf("%s%d%s", base[:at], i, base[at:])
	}
	g.used[s] = true
	return s
}

func (g *gen) personalEmail(given, family string) string {
	gv, fm := emailPart(given), emailPart(family)
	var local string
	switch g.r.IntN(4) {
	case 0:
		local = gv + "." + fm
	case 1:
		local = gv[:1] + fm
	case 2:
		local = gv + fm + g.digits(2)
	default:
		local = gv + "_" + fm
	}
	return g.unique(local + "@" + g.pick(mailProviders))
}

func (g *gen) workEmail(given, family string, co int) string {
	return g.unique(emailPart(given) + "." + emailPart(family) + "@" + g.companies[co].domain)
}

func emailPart(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(asciiFold(strings.ToLower(s)), " ", ""), "'", "")
}

func (g *gen) company() company {
	country := g.country()
	name := g.pick(orgFirst) + " " + g.pick(orgSecond)
	base := strings.ToLower(strings.ReplaceAll(asciiFold(name), " ", ""))
	domain := base + ".example"
	for i := 2; g.used[domain]; i++ {
		domain = fmt.Sprintf("%s%d.example", base, i)
	}
	g.used[domain] = true
	sb := g.landline(country)
	sb = sb[:len(sb)-1] + "0"
	g.used[sb] = true
	return company{name: name, domain: domain, switchboard: sb, address: g.address(country), country: country}
}

// address returns an ADR raw value.
func (g *gen) address(country int) string {
	street := g.pick(streets)
	city := g.pick(cities)
	return card.JoinComponents("", "", fmt.Sprintf("%s %d", street, 1+g.r.IntN(200)), city, "", g.digitsNZ(5), "")
}

func (g *gen) given() string { return g.pick(givenNames) }

// family draws a family name: mostly from a list of common ones, the rest
// made up from syllables, so that the distribution has a long tail.
func (g *gen) family() string {
	if g.p(0.6) {
		return g.pick(familyNames)
	}
	s := g.pick(syllables) + g.pick(syllables)
	if g.p(0.3) {
		s += g.pick(syllables)
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// transliterate writes umlauts and ß the German way without them.
func transliterate(s string) string { return transliterator.Replace(s) }

var transliterator = strings.NewReplacer("ü", "ue", "ö", "oe", "ä", "ae", "Ü", "Ue", "Ö", "Oe", "Ä", "Ae", "ß", "ss", "ø", "oe", "Ø", "Oe", "å", "aa")

// asciiFold drops diacritics from the letters the name lists use.
func asciiFold(s string) string { return asciiFolder.Replace(s) }

var asciiFolder = strings.NewReplacer(
	"ü", "u", "ö", "o", "ä", "a", "Ü", "U", "Ö", "O", "Ä", "A", "ß", "ss",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "É", "E", "á", "a", "à", "a", "â", "a",
	"í", "i", "ï", "i", "ó", "o", "ô", "o", "ú", "u", "ñ", "n", "ç", "c", "Ç", "C",
	"ø", "o", "Ø", "O", "å", "a", "Å", "A", "æ", "ae", "ł", "l", "Ł", "L", "š", "s", "Š", "S",
)
