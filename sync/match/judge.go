package match

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// edge is a scored candidate pair.
type edge struct {
	a, b   int32
	score  float64 // total weight in bits
	reason string
}

// judgeAll estimates the model's weights from the data and scores every
// candidate pair. Joins and possible pairs come back in pair order, so the
// result does not depend on scheduling.
func (m *matcher) judgeAll(ctx context.Context, pairs []uint64) (joins, possible []edge, err error) {
	m.countValues()
	if err := m.estimateU(ctx); err != nil {
		return nil, nil, err
	}
	cands, err := m.compareAll(ctx, pairs)
	if err != nil {
		return nil, nil, err
	}
	m.estimateM(cands)
	m.model.pairs = len(cands)
	for _, s := range cands {
		w := m.model.weight(s.key, s.tf)
		e := edge{a: int32(s.pair >> 32), b: int32(s.pair & 0xffffffff), score: w}
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

// judge scores records a and b with the estimated model and explains the
// arithmetic: per field its level and weight, for and against, and the
// total. veto names what keeps them apart, if anything.
func (m *matcher) judge(a, b int32) (score float64, reason string, veto uint8) {
	p := m.compare(&m.recs[a], &m.recs[b], true)
	md := &m.model
	var tf float32
	for _, x := range p.tf {
		tf += x
	}
	score = md.weight(p.v.pack(), tf)
	veto = md.strong(p.v.pack(), p.tf[cPhone], p.veto)
	type term struct {
		text string
		w    float64
	}
	var terms []term
	for c, l := range p.v {
		if l == null {
			continue
		}
		w := md.w[c][l] + float64(p.tf[c])
		text := comparisons[c].name + " " + comparisons[c].levels[l].name
		if p.how[c] != "" {
			text += " (" + p.how[c] + ")"
		}
		if p.tf[c] < -0.05 {
			text += fmt.Sprintf(" [common value %+.1f]", p.tf[c])
		} else if p.tf[c] > 0.05 {
			text += fmt.Sprintf(" [rare value %+.1f]", p.tf[c])
		}
		terms = append(terms, term{text, w})
	}
	slices.SortStableFunc(terms, func(x, y term) int {
		switch {
		case x.w > y.w:
			return -1
		case x.w < y.w:
			return 1
		}
		return 0
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "score %+.1f (join at %+.1f)", score, float64(mergeAt))
	for _, t := range terms {
		fmt.Fprintf(&sb, "; %s %+.1f", t.text, t.w)
	}
	fmt.Fprintf(&sb, "; prior %+.1f", md.prior)
	for k, word := range vetoWords {
		if veto&(1<<k) != 0 {
			sb.WriteString("; against: " + word)
		}
	}
	return score, sb.String(), veto
}

// union joins records: the user's Together decisions first, then the
// automatic joins strongest first, each refused when it would put records
// the user kept apart, or two clearly different names, into one group.
func (m *matcher) union(joins, possible []edge, cons []Constraint) Result {
	n := len(m.recs)
	u := newUnionFind(n)
	var index map[string]int32
	if len(cons) > 0 {
		index = make(map[string]int32, n)
		for i := range m.ev {
			index[m.ev[i].Key] = int32(i)
		}
	}
	apart := map[int32][]int32{}
	isApart := map[uint64]bool{}
	for _, c := range cons {
		a, okA := index[c.A]
		b, okB := index[c.B]
		if !okA || !okB || a == b || c.Together {
			continue
		}
		apart[a] = append(apart[a], b)
		apart[b] = append(apart[b], a)
		isApart[pairKey(a, b)] = true
	}
	for i := range apart {
		u.aparts[i] = []int32{i}
	}
	reasons := make([][]string, n)
	for _, c := range cons {
		a, okA := index[c.A]
		b, okB := index[c.B]
		if !okA || !okB || a == b || !c.Together {
			continue
		}
		ra, rb := u.find(a), u.find(b)
		if ra == rb || m.apartBetween(u, ra, rb, apart) {
			continue
		}
		r := u.join(ra, rb)
		reasons[r] = append(append(reasons[r], reasons[ra^rb^r]...),
			fmt.Sprintf("%s + %s: joined by the user", m.ev[a].Key, m.ev[b].Key))
		reasons[ra^rb^r] = nil
	}
	slices.SortFunc(joins, func(x, y edge) int {
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		case x.a != y.a:
			return int(x.a - y.a)
		}
		return int(x.b - y.b)
	})
	for _, e := range joins {
		ra, rb := u.find(e.a), u.find(e.b)
		if ra == rb || isApart[pairKey(e.a, e.b)] || m.apartBetween(u, ra, rb, apart) {
			continue
		}
		if a, b, why := m.clash(u, ra, rb); why != 0 {
			possible = append(possible, edge{a: e.a, b: e.b, score: e.score,
				reason: fmt.Sprintf("; but the group would hold %s (%s / %s)", vetoText(why), m.recs[a].disp, m.recs[b].disp)})
			continue
		}
		r := u.join(ra, rb)
		_, why, _ := m.judge(e.a, e.b)
		reasons[r] = append(append(reasons[r], reasons[ra^rb^r]...),
			fmt.Sprintf("%s + %s: %s", m.ev[e.a].Key, m.ev[e.b].Key, why))
		reasons[ra^rb^r] = nil
	}

	var res Result
	groupOf := make([]int32, n)
	for i := range groupOf {
		groupOf[i] = -1
	}
	for i := 0; i < n; i++ {
		r := u.find(int32(i))
		if groupOf[r] < 0 {
			groupOf[r] = int32(len(res.Groups))
			res.Groups = append(res.Groups, Group{Reasons: reasons[r]})
		}
		g := &res.Groups[groupOf[r]]
		g.Members = append(g.Members, i)
	}
	// One possible pair per two groups, the best.
	best := map[uint64]int{}
	for _, e := range possible {
		ra, rb := u.find(e.a), u.find(e.b)
		ga, gb := groupOf[ra], groupOf[rb]
		if ga == gb || isApart[pairKey(e.a, e.b)] || m.apartBetween(u, ra, rb, apart) {
			continue
		}
		k := pairKey(ga, gb)
		// Reason holds only a suffix here; the words come with the pair's explanation below.
		p := Pair{A: int(min(e.a, e.b)), B: int(max(e.a, e.b)), Score: probability(e.score), Reason: e.reason}
		if j, ok := best[k]; ok {
			q := res.Possible[j]
			if p.Score > q.Score || p.Score == q.Score && (p.A < q.A || p.A == q.A && p.B < q.B) {
				res.Possible[j] = p
			}
			continue
		}
		best[k] = len(res.Possible)
		res.Possible = append(res.Possible, p)
	}
	for i := range res.Possible {
		p := &res.Possible[i]
		_, why, _ := m.judge(int32(p.A), int32(p.B))
		p.Reason = why + p.Reason
	}
	slices.SortFunc(res.Possible, func(x, y Pair) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		case x.A != y.A:
			return x.A - y.A
		}
		return x.B - y.B
	})
	return res
}

func pairKey(a, b int32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(uint32(b))
}

// apartBetween reports whether a user decision keeps a record of group ra
// apart from a record of group rb.
func (m *matcher) apartBetween(u *unionFind, ra, rb int32, apart map[int32][]int32) bool {
	xs, root := u.aparts[ra], rb
	if len(u.aparts[rb]) < len(xs) {
		xs, root = u.aparts[rb], ra
	}
	for _, x := range xs {
		for _, p := range apart[x] {
			if u.find(p) == root {
				return true
			}
		}
	}
	return false
}

// maxClashChecks bounds the member pairs compared when two groups join.
const maxClashChecks = 4096

// clash reports whether groups ra and rb hold two records with strong
// evidence against each other (a veto), and which. Joining them would
// chain different people through a record compatible with both.
func (m *matcher) clash(u *unionFind, ra, rb int32) (int32, int32, uint8) {
	xs, ys := u.members[ra], u.members[rb]
	checks := 0
	for _, x := range xs {
		for _, y := range ys {
			if checks++; checks > maxClashChecks {
				return x, y, vetoWeight // too large to check: refuse
			}
			p := m.compare(&m.recs[x], &m.recs[y], false)
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

// unionFind is a disjoint-set forest that also keeps, per root, the
// group's members and its members under a user's Apart decision.
type unionFind struct {
	parent  []int32
	members [][]int32
	aparts  [][]int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), members: make([][]int32, n), aparts: make([][]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.members[i] = []int32{int32(i)}
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// join merges roots a and b and returns the new root.
func (u *unionFind) join(a, b int32) int32 {
	if len(u.members[a]) < len(u.members[b]) {
		a, b = b, a
	}
	u.parent[b] = a
	u.members[a] = append(u.members[a], u.members[b]...)
	u.members[b] = nil
	if len(u.aparts[b]) > 0 {
		u.aparts[a] = append(u.aparts[a], u.aparts[b]...)
		u.aparts[b] = nil
	}
	return a
}
