package merge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// Rebase carries what the sources changed into a card the user may have
// edited. base is the golden card kith made last time, next the golden card
// made now, user the card as the user's address book holds it (base plus the
// user's edits). The result is user with every change from base to next
// applied where the user did not change the same thing; where both changed
// it, the user's value wins and a source value that does not clash (another
// phone, another note line) is still added.
//
// With user equal to base the result equals next, property for property.
func (m *Merger) Rebase(base, next, user vcard.Card) vcard.Card {
	out := cloneCard(user)
	names := map[string]bool{}
	for n := range base {
		names[n] = true
	}
	for n := range next {
		names[n] = true
	}
	for _, name := range sortedKeys(names) {
		switch classOf(name) {
		case managed:
			if next[name] == nil {
				delete(out, name)
			} else {
				out[name] = cloneFields(next[name])
			}
		case single:
			bf, nf := firstNonEmpty(base[name]), firstNonEmpty(next[name])
			if fieldEqual(bf, nf) || !fieldEqual(firstNonEmpty(out[name]), bf) {
				continue // no source change, or the user changed it: the user's value stays
			}
			if nf == nil {
				delete(out, name)
			} else {
				out[name] = cloneFields(next[name])
			}
		case list:
			m.rebaseList(out, name, base, next)
		case note:
			rebaseNote(out, base, next)
		case multi:
			if !labelProps[name] {
				m.rebaseMulti(out, name, base, next)
			}
		}
	}
	return out
}

func (m *Merger) rebaseMulti(out vcard.Card, name string, base, next vcard.Card) {
	index := func(c vcard.Card) map[string]*vcard.Field {
		idx := map[string]*vcard.Field{}
		for _, f := range c[name] {
			if k := m.k.key(name, f); idx[k] == nil {
				idx[k] = f
			}
		}
		return idx
	}
	bi, ni := index(base), index(next)
	for _, k := range sortedKeys(bi) {
		bf := bi[k]
		nf, still := ni[k]
		if still && fieldEqual(stripGroup(bf), stripGroup(nf)) {
			continue
		}
		// Removed or changed at the source: follow only where the user kept base's value.
		for i, uf := range out[name] {
			if m.k.key(name, uf) != k || !fieldEqual(stripGroup(uf), stripGroup(bf)) {
				continue
			}
			if still {
				repl := copyField(nf)
				repl.Group = uf.Group
				out[name][i] = repl
			} else {
				removeField(out, name, i)
				dropOrphanLabels(out, uf.Group)
			}
			break
		}
	}
	for _, k := range sortedKeys(ni) {
		if _, had := bi[k]; had {
			continue
		}
		if slices.ContainsFunc(out[name], func(uf *vcard.Field) bool { return m.k.key(name, uf) == k }) {
			continue
		}
		nf := copyField(ni[k])
		if nf.Group != "" {
			g := freshGroup(out)
			for lname := range labelProps {
				for _, lf := range next[lname] {
					if strings.EqualFold(lf.Group, nf.Group) {
						l := copyField(lf)
						l.Group = g
						out.Add(lname, l)
					}
				}
			}
			nf.Group = g
		}
		out.Add(name, nf)
	}
}

func (m *Merger) rebaseList(out vcard.Card, name string, base, next vcard.Card) {
	items := func(c vcard.Card) []string {
		var all []string
		for _, f := range c[name] {
			all = append(all, card.List(f.Value)...)
		}
		return all
	}
	bl, nl := items(base), items(next)
	ul := items(out)
	fold := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	has := func(l []string, s string) bool {
		return slices.ContainsFunc(l, func(x string) bool { return fold(x) == fold(s) })
	}
	var res []string
	for _, it := range ul {
		if has(bl, it) && !has(nl, it) {
			continue // removed at the source
		}
		res = append(res, it)
	}
	for _, it := range nl {
		if !has(bl, it) && !has(res, it) {
			res = append(res, it)
		}
	}
	if len(res) == 0 {
		delete(out, name)
		return
	}
	var params vcard.Params
	if f := out.Get(name); f != nil {
		params = f.Params
	} else if f := next.Get(name); f != nil {
		params = copyParams(f.Params)
	}
	out[name] = []*vcard.Field{{Value: card.JoinList(res), Params: params}}
}

// rebaseNote applies the source's note changes line by line: lines the
// sources added are appended, lines the sources removed are removed where
// the user's note still has them; every line the user wrote stays.
func rebaseNote(out, base, next vcard.Card) {
	lines := func(c vcard.Card) []string {
		var all []string
		for _, f := range c[vcard.FieldNote] {
			all = append(all, strings.Split(card.Text(f.Value), "\n")...)
		}
		return all
	}
	set := func(ls []string) map[string]int {
		s := map[string]int{}
		for _, l := range ls {
			if t := strings.TrimSpace(l); t != "" {
				s[t]++
			}
		}
		return s
	}
	bl, nl := lines(base), lines(next)
	bs, ns := set(bl), set(nl)
	if fmt.Sprint(bs) == fmt.Sprint(ns) {
		return
	}
	ul := lines(out)
	var res []string
	for _, l := range ul {
		t := strings.TrimSpace(l)
		if t != "" && bs[t] > 0 && ns[t] == 0 {
			continue
		}
		res = append(res, l)
	}
	us := set(res)
	var added []string
	for _, l := range nl {
		t := strings.TrimSpace(l)
		if t != "" && bs[t] == 0 && us[t] == 0 {
			us[t]++
			added = append(added, l)
		}
	}
	text := JoinNotes(strings.Join(res, "\n"), strings.Join(added, "\n"))
	if strings.TrimSpace(text) == "" {
		delete(out, vcard.FieldNote)
		return
	}
	var params vcard.Params
	if f := out.Get(vcard.FieldNote); f != nil {
		params = f.Params
	}
	out[vcard.FieldNote] = []*vcard.Field{{Value: card.EscapeText(text), Params: params}}
}

func fieldEqual(a, b *vcard.Field) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Value != b.Value || !strings.EqualFold(a.Group, b.Group) || len(a.Params) != len(b.Params) {
		return false
	}
	for k, v := range a.Params {
		if !slices.Equal(v, b.Params[k]) {
			return false
		}
	}
	return true
}

func stripGroup(f *vcard.Field) *vcard.Field {
	c := *f
	c.Group = ""
	return &c
}

func removeField(c vcard.Card, name string, i int) {
	c[name] = slices.Delete(c[name], i, i+1)
	if len(c[name]) == 0 {
		delete(c, name)
	}
}

// dropOrphanLabels removes label properties of group when nothing else in
// the card belongs to it any more.
func dropOrphanLabels(c vcard.Card, group string) {
	if group == "" {
		return
	}
	for name, fs := range c {
		if labelProps[name] {
			continue
		}
		for _, f := range fs {
			if strings.EqualFold(f.Group, group) {
				return
			}
		}
	}
	for name := range labelProps {
		c[name] = slices.DeleteFunc(c[name], func(f *vcard.Field) bool { return strings.EqualFold(f.Group, group) })
		if len(c[name]) == 0 {
			delete(c, name)
		}
	}
}

// freshGroup returns a group name not used in c.
func freshGroup(c vcard.Card) string {
	used := map[string]bool{}
	for _, fs := range c {
		for _, f := range fs {
			used[strings.ToLower(f.Group)] = true
		}
	}
	for i := 1; ; i++ {
		if g := fmt.Sprintf("item%d", i); !used[g] {
			return g
		}
	}
}

func cloneFields(fs []*vcard.Field) []*vcard.Field {
	out := make([]*vcard.Field, len(fs))
	for i, f := range fs {
		out[i] = copyField(f)
	}
	return out
}

func cloneCard(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for k, fs := range c {
		out[k] = cloneFields(fs)
	}
	return out
}
