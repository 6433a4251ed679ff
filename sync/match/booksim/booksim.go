// Package booksim generates address books from other assumptions than
// package groundtruth, to measure matching on data its author did not
// shape: duplicates that share no identifier at all (an old hand-typed
// entry against a phone contact), typos typed by hand in names, addresses
// and birthdays, nicknames no table holds, households, a father and son of
// one name at one address, namesakes at one company, OCR slips of every
// kind on scanned cards, and cards that carry only a family name or only a
// given name.
//
// It was written to describe address books, not the matcher: nothing in it
// is set to make a matcher pass.
package booksim

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// Record is one generated card.
type Record struct {
	// Key is unique ("b000042").
	Key string
	// Card holds values raw, as described in package card.
	Card vcard.Card
	// Scanned is true for a business-card scan.
	Scanned bool
	// Person is the index of the person in Book.People.
	Person int
	// Kind says what the record is: "old", "phone", "scan", "surname", "given".
	Kind string
}

// Person is the truth about one person.
type Person struct {
	Given, Family string
	// Household is the index of the person's household, -1 for none.
	Household int
	// Company is the index of the employer, -1 for none.
	Company int
	// Father is the index of the father of the same name at the same
	// address, -1 for none.
	Father int
	// Namesake is the index of a colleague of the same name at the same
	// company, -1 for none.
	Namesake int
}

// Book is a generated address book with the truth.
type Book struct {
	Records []Record
	People  []Person
}

// Relation says what two different people share, for counting wrong
// merges: "father and son", "company namesakes", "household", "namesakes",
// "company", "other".
func (b *Book) Relation(x, y int) string {
	p, q := &b.People[x], &b.People[y]
	switch {
	case p.Father == y || q.Father == x:
		return "father and son"
	case p.Namesake == y || q.Namesake == x:
		return "company namesakes"
	case p.Household >= 0 && p.Household == q.Household:
		return "household"
	case p.Given == q.Given && p.Family == q.Family:
		return "namesakes"
	case p.Company >= 0 && p.Company == q.Company:
		return "company"
	}
	return "other"
}

var givenNames = strings.Fields(`Oluwaseun Chidinma Adebayo Ngozi Siobhan Niamh Aoife Ciaran Xiaoming Mei Wei Jun
Katarzyna Małgorzata Wojciech Grzegorz Bartholomew Maximilian Konstantin Anastasia Ekaterina Dmitri
Guadalupe Ximena Santiago Mateo Valentina Camila Leilani Kalani Anjali Priya Rohan Arjun Aditya
Ingeborg Sigrid Torbjørn Henrik Astrid Lars Sofie Freja Emil Magnus Élodie Théo Léa Amélie
Giuseppe Francesca Lorenzo Giulia Bartosz Zofia Fatima Yusuf Ayşe Mehmet Emre Elif Hana Tomás`)

// shortNames are the short forms people go by that no nickname table of
// English or German names holds.
var shortNames = map[string][]string{
	"Oluwaseun": {"Seun"}, "Chidinma": {"Chi", "Dinma"}, "Adebayo": {"Bayo"}, "Xiaoming": {"Ming"},
	"Katarzyna": {"Kasia", "Kasha"}, "Małgorzata": {"Gosia"}, "Wojciech": {"Wojtek"}, "Grzegorz": {"Grzesiek"},
	"Bartholomew": {"Bart", "Tolly"}, "Maximilian": {"Maxi"}, "Konstantin": {"Kostya"}, "Anastasia": {"Nastya", "Stacy"},
	"Ekaterina": {"Katya"}, "Dmitri": {"Dima"}, "Guadalupe": {"Lupita"}, "Santiago": {"Santi"}, "Valentina": {"Vale"},
	"Ingeborg": {"Inge"}, "Torbjørn": {"Tobbe"}, "Giuseppe": {"Beppe", "Peppino"}, "Francesca": {"Cesca"},
	"Lorenzo": {"Renzo"}, "Bartosz": {"Bartek"}, "Zofia": {"Zosia"}, "Mehmet": {"Memo"}, "Aditya": {"Adi"},
}

var familyNames = strings.Fields(`Okafor Adeyemi Nwosu O'Sullivan McCarthy Walsh-Byrne Zhang Wang Chen Kowalczyk
Wiśniewski Lewandowska Ivanova Petrov García Hernández Rodríguez Kahananui Patel Sharma Iyer Johansson Lindqvist
Andersen Nielsen Dubois Lefèvre Rossi Bianchi Esposito Nowak Yılmaz Demir Öztürk Tanaka Suzuki Novák Dvořák
Schmidt Müller Smith Brown`)

var streets = strings.Fields(`Maple Oak Cedar Birch Willow Linden Elm Chestnut Hawthorn Rowan Aspen Juniper Heather
Primrose Meadow Harbour Station Mill Church Market`)

var streetTypes = [][2]string{{"Street", "St."}, {"Road", "Rd"}, {"Avenue", "Ave"}, {"Lane", "Ln"}, {"Drive", "Dr."}, {"Close", "Cl."}}

var towns = strings.Fields(`Ashford Bramley Carlow Dunmore Eastleigh Fernhill Glenrock Hollybrook Inverlea Kilmore
Larkfield Millbrook Northgate Oakridge Pinehurst Queensbury Riverton Stonebridge Thornbury Westfield`)

var companyNames = strings.Fields(`Halcyon Meridian Brightwater Northwind Copperleaf Bluestone Ironbark Silverfern
Quayside Lighthouse Evergreen Redwood Summit Harvest Keystone`)

var titles = []string{"Engineer", "Accountant", "Sales Manager", "Nurse", "Teacher", "Designer", "Analyst", "Director"}

type company struct {
	name, domain, switchboard, street, town, postcode string
}

type person struct {
	Person
	bday              [3]int // year, month, day; year 0: unknown to everyone
	mobile, email     string
	workEmail, direct string
	title             string
	street, town      string
	postcode          string
	landline          string
}

type gen struct {
	r         *rand.Rand
	used      map[string]bool
	companies []company
}

func (g *gen) p(x float64) bool       { return g.r.Float64() < x }
func (g *gen) pick(l []string) string { return l[g.r.IntN(len(l))] }
func (g *gen) digits(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// unique returns f() until it gives a value not handed out before.
func (g *gen) unique(f func() string) string {
	for {
		if s := f(); !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func (g *gen) mobile() string {
	return g.unique(func() string { return "+44 7" + g.digits(3) + " " + g.digits(6) })
}
func (g *gen) landline() string {
	return g.unique(func() string { return "+44 1" + g.digits(3) + " " + g.digits(6) })
}

func ascii(s string) string {
	r := strings.NewReplacer("ł", "l", "ś", "s", "ø", "o", "é", "e", "ı", "i", "ş", "s", "ö", "o", "ü", "u", "ř", "r", "á", "a", "í", "i", "ñ", "n", "'", "", "·", "", "ó", "o", "ä", "a", "É", "E")
	return strings.ToLower(r.Replace(s))
}

// Generate makes a book of about n people, deterministically from seed.
func Generate(seed uint64, n int) Book {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed*0x2545f4914f6cdd1d+1)), used: map[string]bool{}}
	for range max(1, n/25) {
		name := g.unique(func() string {
			n := g.pick(companyNames) + " " + g.pick([]string{"Ltd", "Group", "Partners", "Labs", "Works"})
			if g.p(0.5) {
				n = g.pick(towns) + " " + n
			}
			return n
		})
		g.companies = append(g.companies, company{
			name: name, domain: strings.ToLower(strings.Join(strings.Fields(name), "")) + ".example",
			switchboard: g.landline(), street: fmt.Sprint(1+g.r.IntN(200), " ", g.pick(streets), " ", streetTypes[g.r.IntN(len(streetTypes))][0]),
			town: g.pick(towns), postcode: g.postcode(),
		})
	}
	var people []person
	households := 0
	for len(people) < n {
		switch {
		case g.p(0.25) && n-len(people) >= 2:
			// A household: one address, one landline, mostly one family name.
			size := 2 + g.r.IntN(3)
			family := g.pick(familyNames)
			street, town, pc, line := g.homeStreet(), g.pick(towns), g.postcode(), g.landline()
			first := len(people)
			for k := range size {
				p := g.person(len(people))
				p.Household = households
				if g.p(0.85) {
					p.Family = family
				}
				p.street, p.town, p.postcode, p.landline = street, town, pc, line
				if k == 1 && g.p(0.3) {
					// The son has his father's name; birthday and mobile differ.
					f := &people[first]
					p.Given, p.Family, p.Father = f.Given, f.Family, first
					p.bday[0] = f.bday[0] + 25 + g.r.IntN(10)
				} else {
					for taken(people[first:], p.Given) {
						p.Given = g.pick(givenNames)
					}
				}
				people = append(people, p)
			}
			households++
		case g.p(0.03) && len(people) > 0:
			// A colleague of the same name at one company.
			o := g.r.IntN(len(people))
			if people[o].Company < 0 || people[o].Namesake >= 0 {
				continue
			}
			p := g.person(len(people))
			p.Given, p.Family, p.Company, p.Namesake = people[o].Given, people[o].Family, people[o].Company, o
			people[o].Namesake = len(people)
			g.job(&p)
			people = append(people, p)
		case g.p(0.03) && len(people) > 0:
			// A namesake elsewhere: same name, nothing else in common.
			o := g.r.IntN(len(people))
			p := g.person(len(people))
			p.Given, p.Family = people[o].Given, people[o].Family
			people = append(people, p)
		default:
			people = append(people, g.person(len(people)))
		}
	}
	var book Book
	for i := range people {
		book.People = append(book.People, people[i].Person)
	}
	for i := range people {
		for _, c := range g.records(&people[i]) {
			book.Records = append(book.Records, Record{Card: c.card, Scanned: c.scanned, Person: i, Kind: c.kind})
		}
	}
	g.r.Shuffle(len(book.Records), func(a, b int) { book.Records[a], book.Records[b] = book.Records[b], book.Records[a] })
	for i := range book.Records {
		book.Records[i].Key = fmt.Sprintf("b%06d", i)
	}
	return book
}

func taken(ps []person, given string) bool {
	for _, p := range ps {
		if p.Given == given {
			return true
		}
	}
	return false
}

func (g *gen) postcode() string {
	return fmt.Sprintf("%c%d %d%c%c", 'A'+rune(g.r.IntN(26)), 1+g.r.IntN(20), g.r.IntN(10), 'A'+rune(g.r.IntN(26)), 'A'+rune(g.r.IntN(26)))
}

func (g *gen) homeStreet() string {
	return fmt.Sprint(1+g.r.IntN(150), " ", g.pick(streets), " ", streetTypes[g.r.IntN(len(streetTypes))][0])
}

func (g *gen) person(i int) person {
	p := person{Person: Person{Given: g.pick(givenNames), Family: g.pick(familyNames), Household: -1, Company: -1, Father: -1, Namesake: -1}}
	p.bday = [3]int{1940 + g.r.IntN(65), 1 + g.r.IntN(12), 1 + g.r.IntN(28)}
	p.street, p.town, p.postcode = g.homeStreet(), g.pick(towns), g.postcode()
	if g.p(0.8) {
		p.mobile = g.mobile()
	}
	if g.p(0.5) {
		p.email = g.unique(func() string {
			return ascii(p.Given) + "." + ascii(strings.ReplaceAll(p.Family, " ", "")) + g.digits(g.r.IntN(3)) + "@" + g.pick([]string{"gmail.com", "outlook.com", "proton.me", "yahoo.co.uk"})
		})
	}
	if g.p(0.5) {
		p.Company = g.r.IntN(len(g.companies))
		g.job(&p)
	}
	return p
}

func (g *gen) job(p *person) {
	c := &g.companies[p.Company]
	p.title = g.pick(titles)
	p.workEmail = g.unique(func() string {
		return ascii(p.Given)[:1] + ascii(strings.ReplaceAll(p.Family, " ", "")) + g.digits(g.r.IntN(2)) + "@" + c.domain
	})
	if g.p(0.6) {
		p.direct = g.unique(func() string { return c.switchboard[:len(c.switchboard)-3] + g.digits(3) })
	}
}

type made struct {
	card    vcard.Card
	scanned bool
	kind    string
}

// records makes one to four cards of p.
func (g *gen) records(p *person) []made {
	var out []made
	n := 1
	switch x := g.r.Float64(); {
	case x < 0.35:
		n = 1
	case x < 0.75:
		n = 2
	case x < 0.92:
		n = 3
	default:
		n = 4
	}
	kinds := []string{"old", "phone", "scan", "surname", "given"}
	for k := range n {
		kind := kinds[g.r.IntN(3)]
		if k > 0 && g.p(0.12) {
			kind = kinds[3+g.r.IntN(2)]
		}
		if kind == "scan" && p.Company < 0 {
			kind = "old"
		}
		if (kind == "given" || kind == "phone") && p.mobile == "" {
			kind = "old"
		}
		out = append(out, g.card(p, kind))
	}
	return out
}

func (g *gen) card(p *person, kind string) made {
	c := vcard.Card{}
	given, family := p.Given, p.Family
	set := func(f, v string) { c.SetValue(f, v) }
	add := func(f, v string, types ...string) {
		fl := &vcard.Field{Value: v}
		if len(types) > 0 {
			fl.Params = vcard.Params{vcard.ParamType: types}
		}
		c.Add(f, fl)
	}
	names := func(gv, fm string) {
		fn := strings.TrimSpace(gv + " " + fm)
		set(vcard.FieldFormattedName, card.EscapeText(fn))
		set(vcard.FieldName, card.JoinComponents(fm, gv, "", "", ""))
	}
	switch kind {
	case "old":
		// An old hand-typed book: typos in names and address, a birthday
		// written some way, a landline; no email, no mobile mostly.
		if g.p(0.4) {
			given = g.typo(given)
		}
		if g.p(0.3) {
			family = g.typo(family)
		}
		names(given, family)
		street, pc, town := p.street, p.postcode, p.town
		if g.p(0.5) {
			street = abbreviate(street)
		}
		if g.p(0.2) {
			street = g.typo(street)
		}
		if g.p(0.15) {
			pc = g.typo(pc)
		}
		if g.p(0.1) {
			town = g.typo(town)
		}
		if g.p(0.15) {
			pc = ""
		}
		add(vcard.FieldAddress, card.JoinComponents("", "", street, town, "", pc, "UK"), "home")
		if g.p(0.8) {
			set(vcard.FieldBirthday, g.bday(p.bday))
		}
		if p.landline != "" && g.p(0.6) {
			add(vcard.FieldTelephone, strings.ReplaceAll(strings.Replace(p.landline, "+44 ", "0", 1), " ", ""), "home")
		}
		if p.mobile != "" && g.p(0.2) {
			add(vcard.FieldTelephone, p.mobile, "cell")
		}
	case "phone", "given":
		// A phone's contact: the name the owner goes by, the mobile, maybe
		// an email and a birthday.
		if short := shortNames[given]; len(short) > 0 && g.p(0.5) {
			given = short[g.r.IntN(len(short))]
		}
		if kind == "given" {
			set(vcard.FieldFormattedName, card.EscapeText(given))
			set(vcard.FieldName, card.JoinComponents("", given, "", "", ""))
		} else {
			names(given, family)
		}
		add(vcard.FieldTelephone, p.mobile, "cell")
		if p.email != "" && g.p(0.6) {
			add(vcard.FieldEmail, p.email, "home")
		}
		if g.p(0.3) {
			set(vcard.FieldBirthday, g.bday(p.bday))
		}
	case "surname":
		// "Dr. Okafor": a family name and a landline or the address.
		set(vcard.FieldFormattedName, card.EscapeText(family))
		set(vcard.FieldName, card.JoinComponents(family, "", "", "", ""))
		if p.landline != "" {
			add(vcard.FieldTelephone, p.landline, "home")
		} else if p.mobile != "" {
			add(vcard.FieldTelephone, p.mobile, "cell")
		}
		add(vcard.FieldAddress, card.JoinComponents("", "", p.street, p.town, "", p.postcode, "UK"), "home")
	case "scan":
		// A business card read by a scanner, with OCR slips.
		co := &g.companies[p.Company]
		gv, fm := given, family
		if g.p(0.5) {
			gv = g.ocr(gv)
		}
		if g.p(0.5) {
			fm = g.ocr(fm)
		}
		names(gv, fm)
		set(vcard.FieldOrganization, card.JoinComponents(co.name))
		set(vcard.FieldTitle, card.EscapeText(p.title))
		email := p.workEmail
		if g.p(0.3) {
			email = g.ocr(email)
		}
		add(vcard.FieldEmail, email, "work")
		add(vcard.FieldTelephone, co.switchboard, "work")
		if p.direct != "" {
			add(vcard.FieldTelephone, p.direct, "work")
		}
		if p.mobile != "" && g.p(0.4) {
			add(vcard.FieldTelephone, p.mobile, "cell")
		}
		add(vcard.FieldAddress, card.JoinComponents("", "", co.street, co.town, "", co.postcode, "UK"), "work")
		return made{card: c, scanned: true, kind: kind}
	}
	return made{card: c, kind: kind}
}

// typo makes one slip a hand makes: a neighbouring key, a letter dropped or
// doubled, two letters swapped.
func (g *gen) typo(s string) string {
	r := []rune(s)
	if len(r) < 3 {
		return s
	}
	i := 1 + g.r.IntN(len(r)-2)
	switch g.r.IntN(4) {
	case 0:
		if n, ok := neighbours[r[i]]; ok {
			r[i] = []rune(n)[g.r.IntN(len([]rune(n)))]
		}
	case 1:
		r = append(r[:i], r[i+1:]...)
	case 2:
		r = append(r[:i+1], r[i:]...)
	default:
		r[i], r[i+1] = r[i+1], r[i]
	}
	return string(r)
}

var neighbours = map[rune]string{'a': "sq", 'e': "wr", 'i': "uo", 'o': "ip", 'u': "yi", 'n': "bm", 'm': "n", 's': "ad", 'r': "et", 't': "ry", 'l': "k", 'h': "gj", 'd': "sf", 'c': "xv", 'k': "jl", 'g': "fh", 'b': "vn", 'y': "tu", 'w': "qe", 'z': "x", 'p': "o", 'f': "dg", 'v': "cb", 'j': "hk", '1': "2", '2': "13", '3': "24", '4': "35", '5': "46", '6': "57", '7': "68", '8': "79", '9': "8"}

// ocr makes one to two slips a scanner makes.
func (g *gen) ocr(s string) string {
	pairs := [][2]string{{"m", "rn"}, {"l", "1"}, {"i", "l"}, {"o", "0"}, {"O", "0"}, {"e", "c"}, {"s", "5"}, {"S", "5"}, {"B", "8"}, {"w", "vv"}, {"d", "cl"}, {"I", "l"}}
	for range 1 + g.r.IntN(2) {
		p := pairs[g.r.IntN(len(pairs))]
		if i := strings.Index(s, p[0]); i >= 0 {
			s = s[:i] + p[1] + s[i+len(p[0]):]
		}
	}
	return s
}

func abbreviate(street string) string {
	for _, t := range streetTypes {
		if strings.HasSuffix(street, " "+t[0]) {
			return strings.TrimSuffix(street, t[0]) + t[1]
		}
	}
	return street
}

// bday writes a birthday the ways people type them, sometimes with a slip.
func (g *gen) bday(d [3]int) string {
	y, m, day := d[0], d[1], d[2]
	switch x := g.r.Float64(); {
	case x < 0.05 && day <= 12:
		m, day = day, m // day and month swapped
	case x < 0.10:
		day = max(1, min(28, day+1-2*g.r.IntN(2)))
	}
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%04d-%02d-%02d", y, m, day)
	case 1:
		return fmt.Sprintf("%04d%02d%02d", y, m, day)
	case 2:
		return fmt.Sprintf("%02d.%02d.%04d", day, m, y)
	}
	return fmt.Sprintf("--%02d%02d", m, day)
}
