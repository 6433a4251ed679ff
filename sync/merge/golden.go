package merge

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
	"kith/sync/normalize"
)

// ProductID is the PRODID kith writes on every card it makes.
const ProductID = "-//kith//kith//EN"

// Member is one record's card as merging sees it.
type Member struct {
	// Card is in vCard 3.0 form, raw values.
	Card vcard.Card
	// Scanned marks a card from a business-card scan, whose name may carry OCR slips.
	Scanned bool
	// Seen is when the record was made or last changed; the newest record
	// supplies organisation and title (people change jobs).
	Seen time.Time
}

// Merger builds golden cards. It is safe for concurrent use.
type Merger struct{ k keyer }

// New returns a Merger that compares emails and phones with n.
func New(n *normalize.Normalizer) *Merger { return &Merger{k: keyer{n: n}} }

// Golden returns the one card for a person whose records are members, in
// priority order (the first member wins ties). The card is vCard 3.0 with
// the given UID: the best name, the union of emails, phones, addresses, URLs
// and unknown properties (deduplicated by normalised value), every note line,
// the union of categories and nicknames, and one value of every
// single-valued property.
func (m *Merger) Golden(uid string, members []Member) vcard.Card {
	out := vcard.Card{}
	out.Add(vcard.FieldVersion, &vcard.Field{Value: "3.0"})
	out.Add(vcard.FieldProductID, &vcard.Field{Value: ProductID})
	out.Add(vcard.FieldUID, &vcard.Field{Value: card.EscapeText(uid)})

	groups := newRegrouper()
	pickSingles(out, members, groups)

	seen := map[string]*vcard.Field{}
	var notes []string
	lists := map[string]*listUnion{}
	for i, mem := range members {
		kept := map[string]bool{} // groups of this member that keep a property
		for _, name := range sortedNames(mem.Card) {
			switch classOf(name) {
			case multi:
				if labelProps[name] {
					continue
				}
				for _, f := range mem.Card[name] {
					k := name + "\x00" + m.k.key(name, f)
					if prev, dup := seen[k]; dup {
						mergeTypes(prev, f)
						continue
					}
					nf := copyField(f)
					nf.Group = groups.rename(i, f.Group)
					if f.Group != "" {
						kept[f.Group] = true
					}
					seen[k] = nf
					out.Add(name, nf)
				}
			case list:
				for _, f := range mem.Card[name] {
					unionList(out, lists, name, f)
				}
			case note:
				for _, f := range mem.Card[name] {
					notes = append(notes, card.Text(f.Value))
				}
			}
		}
		for name := range labelProps {
			for _, f := range mem.Card[name] {
				if f.Group != "" && kept[f.Group] {
					nf := copyField(f)
					nf.Group = groups.rename(i, f.Group)
					out.Add(name, nf)
				}
			}
		}
	}
	for _, l := range lists {
		l.dst.Value = card.JoinList(l.items)
	}
	if n := JoinNotes(notes...); n != "" {
		out.Add(vcard.FieldNote, &vcard.Field{Value: card.EscapeText(n)})
	}
	ensureNames(out)
	return out
}

// pickSingles sets every single-valued property from the member that
// should supply it.
func pickSingles(out vcard.Card, members []Member, groups *regrouper) {
	if len(members) == 0 {
		return
	}
	best := 0
	for i := range members {
		if nameScore(members[i]) > nameScore(members[best]) {
			best = i
		}
	}
	// Order of preference: the best-named member for names, the newest for
	// job properties, priority order for the rest.
	byPriority := make([]int, len(members))
	for i := range byPriority {
		byPriority[i] = i
	}
	newest := slices.Clone(byPriority)
	slices.SortStableFunc(newest, func(a, b int) int { return members[b].Seen.Compare(members[a].Seen) })
	nameFirst := append([]int{best}, byPriority...)

	names := map[string]bool{}
	for _, mem := range members {
		for name := range mem.Card {
			if classOf(name) == single {
				names[name] = true
			}
		}
	}
	for _, name := range sortedKeys(names) {
		order := byPriority
		switch name {
		case vcard.FieldFormattedName, vcard.FieldName, "X-PHONETIC-FIRST-NAME", "X-PHONETIC-LAST-NAME", "SORT-STRING":
			order = nameFirst
		case vcard.FieldOrganization, vcard.FieldTitle, vcard.FieldRole:
			order = newest
		}
		for _, i := range order {
			if f := firstNonEmpty(members[i].Card[name]); f != nil {
				nf := copyField(f)
				nf.Group = groups.rename(i, f.Group)
				out.Add(name, nf)
				break
			}
		}
	}
}

// nameScore rates how complete and trustworthy a member's name is.
func nameScore(m Member) int {
	s := 0
	if f := firstNonEmpty(m.Card[vcard.FieldFormattedName]); f != nil {
		s += 2
	}
	if f := firstNonEmpty(m.Card[vcard.FieldName]); f != nil {
		for _, c := range card.Components(f.Value) {
			if strings.TrimSpace(c) != "" {
				s++
			}
		}
	}
	if !m.Scanned && s > 0 {
		s += 3
	}
	return s
}

// ensureNames gives the card the FN and N that vCard 3.0 requires.
func ensureNames(c vcard.Card) {
	if firstNonEmpty(c[vcard.FieldFormattedName]) == nil {
		fn := ""
		if f := firstNonEmpty(c[vcard.FieldName]); f != nil {
			p := card.Components(f.Value)
			for len(p) < 2 {
				p = append(p, "")
			}
			fn = strings.TrimSpace(p[1] + " " + p[0])
		}
		if fn == "" {
			for _, k := range []string{vcard.FieldOrganization, vcard.FieldEmail, vcard.FieldTelephone} {
				if f := firstNonEmpty(c[k]); f != nil {
					fn = card.Components(f.Value)[0]
					break
				}
			}
		}
		c[vcard.FieldFormattedName] = []*vcard.Field{{Value: card.EscapeText(fn)}}
	}
	if c.Get(vcard.FieldName) == nil {
		c.Add(vcard.FieldName, &vcard.Field{Value: ";;;;"})
	}
}

// JoinNotes unions note texts line by line: the first note whole, then each
// further note's lines that are not already there, after a blank line. No
// line is ever dropped unless it is an exact duplicate.
func JoinNotes(notes ...string) string {
	var lines []string
	have := map[string]bool{}
	for _, n := range notes {
		n = strings.TrimRight(strings.ReplaceAll(n, "\r\n", "\n"), "\n ")
		if strings.TrimSpace(n) == "" {
			continue
		}
		var add []string
		for _, l := range strings.Split(n, "\n") {
			t := strings.TrimSpace(l)
			if t != "" && have[t] {
				continue
			}
			add = append(add, l)
		}
		if !slices.ContainsFunc(add, func(l string) bool { return strings.TrimSpace(l) != "" }) {
			continue
		}
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		for _, l := range add {
			if t := strings.TrimSpace(l); t != "" {
				have[t] = true
			}
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// listUnion is one list property (CATEGORIES) of the golden card being
// built: its items so far, joined into dst once all members are in. (Joining
// and splitting again at every member's line made a card with 100k
// CATEGORIES lines cost minutes.)
type listUnion struct {
	dst   *vcard.Field
	items []string
	have  map[string]bool // folded items
}

// unionList adds the items of f to the one list property name of out.
func unionList(out vcard.Card, lists map[string]*listUnion, name string, f *vcard.Field) {
	l := lists[name]
	if l == nil {
		l = &listUnion{dst: &vcard.Field{Params: copyParams(f.Params)}, have: map[string]bool{}}
		lists[name] = l
		out.Add(name, l.dst)
	}
	for _, it := range card.List(f.Value) {
		if k := normalize.Fold(it); !l.have[k] {
			l.have[k] = true
			l.items = append(l.items, it)
		}
	}
}

// mergeTypes adds the TYPE values of src that dst lacks.
func mergeTypes(dst, src *vcard.Field) {
	for _, t := range src.Params[vcard.ParamType] {
		if !dst.Params.HasType(t) {
			if dst.Params == nil {
				dst.Params = vcard.Params{}
			}
			dst.Params.Add(vcard.ParamType, t)
		}
	}
}

// regrouper gives each member's property groups fresh names, so that item1
// of one member does not collide with item1 of another.
type regrouper struct {
	names map[[2]string]string
	next  int
}

func newRegrouper() *regrouper { return &regrouper{names: map[[2]string]string{}} }

func (g *regrouper) rename(member int, group string) string {
	if group == "" {
		return ""
	}
	k := [2]string{fmt.Sprint(member), strings.ToLower(group)}
	if n, ok := g.names[k]; ok {
		return n
	}
	g.next++
	n := fmt.Sprintf("item%d", g.next)
	g.names[k] = n
	return n
}

func firstNonEmpty(fs []*vcard.Field) *vcard.Field {
	for _, f := range fs {
		if strings.Trim(f.Value, " ;,") != "" {
			return f
		}
	}
	return nil
}

func copyField(f *vcard.Field) *vcard.Field {
	return &vcard.Field{Value: f.Value, Params: copyParams(f.Params), Group: f.Group}
}

func copyParams(p vcard.Params) vcard.Params {
	if len(p) == 0 {
		return nil
	}
	out := make(vcard.Params, len(p))
	for k, v := range p {
		out[k] = slices.Clone(v)
	}
	return out
}

func sortedNames(c vcard.Card) []string { return sortedKeys(c) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
