package sync

import (
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// DisplayName returns the name a person would read for c: FN, else N in
// "Given Family" order, else ORG, else the first email.
func DisplayName(c vcard.Card) string {
	if f := c.Get(vcard.FieldFormattedName); f != nil {
		if s := strings.TrimSpace(card.Text(f.Value)); s != "" {
			return s
		}
	}
	if f := c.Get(vcard.FieldName); f != nil {
		p := card.Components(f.Value)
		for len(p) < 5 {
			p = append(p, "")
		}
		s := strings.Join(strings.Fields(strings.Join([]string{p[3], p[1], p[2], p[0], p[4]}, " ")), " ")
		if s != "" {
			return s
		}
	}
	if f := c.Get(vcard.FieldOrganization); f != nil {
		if p := card.Components(f.Value); len(p) > 0 && strings.TrimSpace(p[0]) != "" {
			return strings.TrimSpace(p[0])
		}
	}
	if f := c.Get(vcard.FieldEmail); f != nil {
		return card.Text(f.Value)
	}
	return ""
}
