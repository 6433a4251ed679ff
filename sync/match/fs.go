package match

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// fsJudgeAll estimates the model's weights from the data and scores every
// candidate pair. Joins and possible pairs come back in pair order, so the
// result does not depend on scheduling.
func (m *matcher) fsJudgeAll(ctx context.Context, pairs []uint64) (joins, possible []edge, err error) {
	// Term frequencies depend on u: the estimation goes without them (u
	// and the counts were made beside blocking, see newMatcher), and only
	// the pairs they could lift to a possible duplicate get them (tfOf:
	// from the levels found, the names not compared again).
	cands, err := m.compareAll(ctx, pairs)
	if err != nil {
		return nil, nil, err
	}
	m.mark("compare")
	// u from random pairs counts the duplicates among them; each round
	// discounts them by their probability under the model so far.
	ps := patternsOf(cands)
	for range uRounds {
		m.estimateM(ps)
		m.refineU()
	}
	m.estimateM(ps)
	m.mark("em")
	m.noTF = false
	m.model.pairs = len(cands)
	// Whether a pair is too weak to matter depends on its pattern only.
	weak := make(map[uint64]bool, len(ps))
	for k := range ps {
		key := ps[k].v.pack()
		weak[key] = m.model.weight(key, 0, 0)+tfHeadroom(&ps[k].v) < possibleAt
	}
	var again []int32 // the candidates to compare with term frequencies
	for k := range cands {
		if cands[k].skip = weak[cands[k].key]; !cands[k].skip {
			again = append(again, int32(k))
		}
	}
	order := m.localOrder(len(again), func(i int) (int32, int32) {
		s := &cands[again[i]]
		return unpair(s.pair)
	})
	if err := parallel(ctx, len(order), func(i int) {
		s := &cands[again[order[i]]]
		a, b := unpair(s.pair)
		tf := m.tfOf(m.recs[a], m.recs[b], s.key)
		s.tf, s.tfPhone = 0, tf[cPhone]
		for _, x := range tf {
			s.tf += x
		}
	}); err != nil {
		return nil, nil, err
	}
	m.mark("tfpass")
	for _, s := range cands {
		if s.skip {
			continue
		}
		w := m.model.weight(s.key, s.tf, s.tfPhone)
		a, b := unpair(s.pair)
		e := edge{a: a, b: b, score: w}
		switch {
		case m.model.strong(s.key, s.tfPhone, s.veto) != 0:
		case w >= mergeAt:
			joins = append(joins, e)
		case w >= possibleAt:
			possible = append(possible, e)
		}
	}
	return joins, possible, nil
}

// tfHeadroom is the most term-frequency adjustments can add to a pair
// with levels v: a bonus on every comparison at its exact level.
func tfHeadroom(v *vector) float64 {
	h := 0.0
	if v[cGiven] == 5 {
		h += tfMaxBonus
	}
	if v[cFamily] == 3 {
		h += tfMaxBonus
	}
	if v[cEmail] == 4 {
		h += tfMaxBonusID
	}
	if v[cPhone] == 3 || v[cPhone] == 4 || v[cPhone] == 6 {
		h += tfMaxBonusID
	}
	if v[cAddress] >= 3 {
		h += tfMaxBonusID
	}
	if v[cOrg] == 2 {
		h += tfMaxBonusID
	}
	return h
}

// fsJudge scores records a and b with the estimated model and explains the
// arithmetic: per field its level and weight, for and against, and the
// total. veto names what keeps them apart, if anything.
func (m *matcher) fsJudge(a, b int32) (score float64, reason string, veto uint8) {
	p := m.compare(m.recs[a], m.recs[b], true)
	md := &m.model
	var tf float32
	for _, x := range p.tf {
		tf += x
	}
	score = md.weight(p.v.pack(), tf, p.tf[cPhone])
	veto = md.strong(p.v.pack(), p.tf[cPhone], p.veto)
	// Written into one buffer: a reason is written for every join.
	type term struct {
		c int
		w float64
	}
	var terms [nComp]term
	nt := 0
	for c, l := range p.v {
		if l != null {
			terms[nt] = term{c, md.w[c][l] + float64(p.tf[c])}
			nt++
		}
	}
	slices.SortStableFunc(terms[:nt], func(x, y term) int {
		switch {
		case x.w > y.w:
			return -1
		case x.w < y.w:
			return 1
		}
		return 0
	})
	var sb strings.Builder
	sb.Grow(320)
	var num [32]byte
	number := func(x float64, bits int) { sb.Write(appendSigned(num[:0], x, bits)) }
	sb.WriteString("score ")
	number(score, 64)
	sb.WriteString(" (join at ")
	number(mergeAt, 64)
	sb.WriteByte(')')
	for _, t := range terms[:nt] {
		c := t.c
		sb.WriteString("; ")
		sb.WriteString(comparisons[c].name)
		sb.WriteByte(' ')
		sb.WriteString(comparisons[c].levels[p.v[c]].name)
		if p.how[c] != "" {
			sb.WriteString(" (")
			sb.WriteString(p.how[c])
			sb.WriteByte(')')
		}
		if p.tf[c] < -0.05 {
			sb.WriteString(" [common value ")
			number(float64(p.tf[c]), 32)
			sb.WriteByte(']')
		} else if p.tf[c] > 0.05 {
			sb.WriteString(" [rare value ")
			number(float64(p.tf[c]), 32)
			sb.WriteByte(']')
		}
		sb.WriteByte(' ')
		number(t.w, 64)
	}
	sb.WriteString("; prior ")
	number(md.prior, 64)
	if h, ok := md.hh.odds(md, &p.v, p.tf[cPhone]); ok {
		sb.WriteString("; shares a home: one person rather than two of one household ")
		number(h, 64)
	}
	for k, word := range vetoWords {
		if veto&(1<<k) != 0 {
			sb.WriteString("; against: ")
			sb.WriteString(word)
		}
	}
	return score, sb.String(), veto
}

// union joins records: the user's Together decisions first, then the
// automatic joins strongest first, each refused when it would put records

const maxClashChecks = 4096

// clash reports whether groups ra and rb hold two records with strong
// evidence against each other (a veto), and which. Joining them would
// chain different people through a record compatible with both. The pair
// a, b being joined is not compared again: its veto was checked when it
// was scored.
func (m *matcher) clash(u *unionFind, ra, rb, a, b int32) (int32, int32, uint8) {
	xs, ys := u.members[ra], u.members[rb]
	checks := 0
	for _, x := range xs {
		for _, y := range ys {
			if x == a && y == b || x == b && y == a {
				continue
			}
			if checks++; checks > maxClashChecks {
				return x, y, vetoWeight // too large to check: refuse
			}
			p := m.compare(m.recs[x], m.recs[y], false)
			if v := m.model.strong(p.v.pack(), p.tf[cPhone], p.veto); v != 0 {
				return x, y, v
			}
		}
	}
	return 0, 0, 0
}

// vetoText names the first veto flag in v.
func vetoText(v uint8) string {
	for k, w := range vetoWords {
		if v&(1<<k) != 0 {
			return w
		}
	}
	return ""
}

// appendSigned appends x to b as fmt's %+.1f formats it (bits: 32 for a
// float32), without fmt's cost: reasons are written for every join.
func appendSigned(b []byte, x float64, bits int) []byte {
	n := len(b)
	b = strconv.AppendFloat(append(b, '+'), x, 'f', 1, bits)
	if b[n+1] == '-' || b[n+1] == '+' {
		b = append(b[:n], b[n+1:]...)
	}
	return b
}
