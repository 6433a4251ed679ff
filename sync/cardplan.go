package sync

import (
	"cmp"
	"slices"
	"strings"
)

// Where each contact's card stands on a target.
//
// A card kith made sits at "<uid>.vcf" (its href starts with UIDPrefix). A
// card the user made on the target (a phone's contacts app, khard) is
// adopted in place: it is read as a record of a source named like the
// target, joins dedup like any other record, and from then on it is its
// contact's card on that target, at its own href and with its own UID, for
// good; kith writes the merged contact there (If-Match). When one contact
// has several cards on a target (its records merged, contacts joined),
// one survives and takes the others' content, in this order:
//
//  1. a card the user made, one kith knew before a new one, then by href:
//     the phone keeps the card it ties favourites, links and groups to;
//  2. kith's own card at "<uid>.vcf";
//  3. none, when the user deleted the contact's card on the target;
//  4. a new card at "<uid>.vcf".
//
// The others' user edits are rebased onto the survivor, which is written
// first; only then are they deleted (If-Match), so the person never
// disappears from the target, not even for a moment.

// cardPlan is where one contact's card goes on a target.
type cardPlan struct {
	c *Contact
	// href is the survivor's; "" when the user deleted the contact's card here.
	href string
	// adopt is set when href is a card the user made that kith has not
	// written yet.
	adopt bool
	// folds are the contact's other cards kith knows here: their edits move
	// to href, then they go.
	folds []string
	// drops are cards the user made for this contact that kith does not
	// know yet: their content is the contact's already; they go once href
	// stands.
	drops []string
	// leave are the contact's other cards when the user deleted its card
	// here: they go like the card of a contact that left its sources.
	leave []string
}

// madeByKith reports whether href names a card kith made ("<uid>.vcf").
func madeByKith(href string) bool { return strings.HasPrefix(href, UIDPrefix) }

// planCards decides, for every contact, which card on target (next: what
// kith knows there; listing: what is there now) is its card. It also
// returns the owner of every card it placed, by href.
func planCards(target string, contacts []*Contact, next map[string]*TargetEntry, listing map[string]string) ([]cardPlan, map[string]*Contact) {
	byUID := make(map[string]*Contact, len(contacts))
	absorbedBy := map[string]*Contact{}
	made := map[string]*Contact{} // href of a card the user made here → the contact its record is in
	for _, c := range contacts {
		byUID[c.UID] = c
		for _, uid := range c.Absorbed {
			absorbedBy[uid] = c
		}
		for _, m := range c.Members {
			if m.Source == target && !madeByKith(m.ID) {
				made[m.ID] = c
			}
		}
	}
	owner := map[string]*Contact{}
	type cand struct {
		href  string
		ent   *TargetEntry // nil: a card the user made, new to kith
		user  bool
		alive bool
	}
	cands := map[*Contact][]cand{}
	for href, ent := range next {
		if ent.Group {
			continue
		}
		var c *Contact
		switch {
		case ent.Deleted:
			// A tombstone stands for the contact it showed as long as that lives.
			c = byUID[ent.UID]
		case !madeByKith(href):
			c = made[href] // a card the user made follows its record
		default:
			c = byUID[ent.UID]
			if c == nil {
				c = absorbedBy[ent.UID]
			}
		}
		if c != nil {
			owner[href] = c
			cands[c] = append(cands[c], cand{href: href, ent: ent, user: !madeByKith(href), alive: !ent.Deleted})
		}
	}
	for href := range listing {
		if _, known := next[href]; known {
			continue
		}
		if c := made[href]; c != nil {
			owner[href] = c
			cands[c] = append(cands[c], cand{href: href, user: true, alive: true})
		}
	}
	plans := make([]cardPlan, 0, len(contacts))
	for _, c := range contacts {
		cs := cands[c]
		rank := func(x cand) int {
			switch {
			case x.alive && x.user && x.ent != nil:
				return 0
			case x.alive && x.user:
				return 1
			case x.alive && x.href == c.UID+".vcf":
				return 2
			case !x.alive:
				return 3
			}
			return 4
		}
		slices.SortFunc(cs, func(a, b cand) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.href, b.href)) })
		p := cardPlan{c: c, href: c.UID + ".vcf"}
		rest := cs
		if len(cs) > 0 && rank(cs[0]) <= 2 {
			p.href, p.adopt, rest = cs[0].href, cs[0].ent == nil, cs[1:]
		} else if slices.ContainsFunc(cs, func(x cand) bool { return !x.alive }) {
			p.href = ""
		}
		for _, x := range rest {
			switch {
			case !x.alive:
			case p.href == "":
				p.leave = append(p.leave, x.href)
			case x.ent == nil:
				p.drops = append(p.drops, x.href)
			default:
				p.folds = append(p.folds, x.href)
			}
		}
		if p.href != "" {
			owner[p.href] = c
		}
		plans = append(plans, p)
	}
	return plans, owner
}
