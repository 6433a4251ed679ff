package match

import (
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// Evidence is what matching knows about one record.
type Evidence struct {
	// Key is the record's opaque, unique key, used in reasons and constraints.
	Key string
	// FN is the formatted name as plain text (already unescaped).
	FN string
	// Given, Family, Middle, Prefix and Suffix are the components of N, plain text.
	Given, Family, Middle, Prefix, Suffix string
	// Nicknames are the values of NICKNAME.
	Nicknames []string
	// Emails are the addresses as written; Cluster normalises them.
	Emails []string
	// Phones are the numbers as written, with their types.
	Phones []Phone
	// Org is the organisation's name (first component of ORG); Title the job title.
	Org, Title string
	// Addresses are the postal addresses, by component.
	Addresses []Address
	// Birthday is BDAY as written ("1980-04-12", "19800412", "--0412").
	Birthday string
	// Scanned is true for a record from a business-card scan, whose text may
	// carry OCR slips (rn for m, 1 for l, 0 for O, c for e).
	Scanned bool
}

// Address is a postal address by component, as ADR holds it (the post
// office box goes with Ext).
type Address struct {
	Ext, Street, Locality, Region, Postcode, Country string
}

// line formats a on one line, its parts separated by commas.
func (a Address) line() string {
	var parts []string
	for _, p := range []string{a.Ext, a.Street, a.Locality, a.Region, a.Postcode, a.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// Phone is a telephone number as written, with its TYPE values lower-cased
// ("cell", "work", "home", "fax", "voice"...).
type Phone struct {
	Number string
	Types  []string
}

// FromCard extracts the Evidence of card c, whose values are raw as described
// in package card. key names the record; scanned says whether it came from a
// business-card scan.
func FromCard(key string, c vcard.Card, scanned bool) Evidence {
	ev := Evidence{Key: key, Scanned: scanned}
	if f := c.Get(vcard.FieldFormattedName); f != nil {
		ev.FN = strings.TrimSpace(card.Text(f.Value))
	}
	if f := c.Get(vcard.FieldName); f != nil {
		p := card.Components(f.Value)
		for len(p) < 5 {
			p = append(p, "")
		}
		ev.Family, ev.Given, ev.Middle, ev.Prefix, ev.Suffix = trim(p[0]), trim(p[1]), trim(p[2]), trim(p[3]), trim(p[4])
	}
	for _, f := range c[vcard.FieldNickname] {
		ev.Nicknames = append(ev.Nicknames, card.List(f.Value)...)
	}
	for _, f := range c[vcard.FieldEmail] {
		if s := trim(card.Text(f.Value)); s != "" {
			ev.Emails = append(ev.Emails, s)
		}
	}
	for _, f := range c[vcard.FieldTelephone] {
		if s := trim(card.Text(f.Value)); s != "" {
			ev.Phones = append(ev.Phones, Phone{Number: s, Types: types(f.Params)})
		}
	}
	if f := c.Get(vcard.FieldOrganization); f != nil {
		if p := card.Components(f.Value); len(p) > 0 {
			ev.Org = trim(p[0])
		}
	}
	if f := c.Get(vcard.FieldTitle); f != nil {
		ev.Title = trim(card.Text(f.Value))
	}
	for _, f := range c[vcard.FieldAddress] {
		p := card.Components(f.Value)
		for i := range p {
			p[i] = strings.Join(strings.Fields(p[i]), " ")
		}
		for len(p) < 7 {
			p = append(p, "")
		}
		a := Address{Ext: strings.TrimSpace(p[0] + " " + p[1]), Street: p[2], Locality: p[3], Region: p[4], Postcode: p[5], Country: p[6]}
		if a != (Address{}) {
			ev.Addresses = append(ev.Addresses, a)
		}
	}
	if f := c.Get(vcard.FieldBirthday); f != nil {
		ev.Birthday = trim(card.Text(f.Value))
	}
	return ev
}

func trim(s string) string { return strings.TrimSpace(s) }

// types returns the TYPE values of params, lower-cased, split at commas. The
// parameter name is matched without regard to case, since cards from scanners
// spell it every way.
func types(params vcard.Params) []string {
	var out []string
	for k, vs := range params {
		if !strings.EqualFold(k, vcard.ParamType) {
			continue
		}
		for _, v := range vs {
			for _, t := range strings.Split(v, ",") {
				if t = strings.ToLower(strings.Trim(t, `" `)); t != "" {
					out = append(out, t)
				}
			}
		}
	}
	return out
}
