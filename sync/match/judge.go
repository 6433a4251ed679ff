package match

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	gosync "sync"
)

// edge is a scored candidate pair.
type edge struct {
	a, b   int32
	score  float64
	reason string
}

// Evidence weights. A strong identifier (an email or phone no one else
// carries) outweighs everything else; weak evidence adds up.
const (
	wStrong     = 10.0
	wSharedID   = 1.0
	wFax        = 0.5
	wOrg        = 1.0
	wTitle      = 1.0
	wAddr       = 2.0
	wSharedAddr = 1.0
	// mergeWeak is the weak evidence that, with the same full name, joins two
	// records without a strong identifier.
	mergeWeak = 2.0
)

// judgeAll scores every candidate pair on all CPUs. Joins and possible pairs
// come back in pair order, so the result does not depend on scheduling.
func (m *matcher) judgeAll(ctx context.Context, pairs []uint64) (joins, possible []edge, err error) {
	workers := runtime.GOMAXPROCS(0)
	if len(pairs) < 4096 {
		workers = 1
	}
	type out struct{ joins, possible []edge }
	outs := make([]out, workers)
	chunk := (len(pairs) + workers - 1) / workers
	var wg gosync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := min(w*chunk, len(pairs)), min((w+1)*chunk, len(pairs))
		wg.Go(func() {
			o := &outs[w]
			for k, p := range pairs[lo:hi] {
				if k%4096 == 0 && ctx.Err() != nil {
					return
				}
				a, b := unpair(p)
				e, join := m.judge(a, b, false)
				switch {
				case join:
					o.joins = append(o.joins, e)
				case e.score > 0:
					o.possible = append(o.possible, e)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, o := range outs {
		joins = append(joins, o.joins...)
		possible = append(possible, o.possible...)
	}
	return joins, possible, nil
}

// judge scores records a and b. join is true when the evidence is strong
// enough to join them; otherwise a positive score marks a possible duplicate.
// With explain, the edge carries its reason in words; scoring all candidates
// goes without, and only the joins made and the pairs reported are explained.
func (m *matcher) judge(a, b int32, explain bool) (e edge, join bool) {
	e = edge{a: a, b: b}
	ra, rb := m.recs[a], m.recs[b]
	if !ra.thin() && !rb.thin() && !anyCommon(ra, rb) {
		// Most candidates from name blocks share nothing but the name:
		// nothing to score, and no need to compare the names.
		return e, false
	}
	nr, how := nameRel(&ra.nm, &rb.nm)
	if nr == relConflict {
		return e, false
	}
	var why []string
	strong, weak, sharedW := 0, 0.0, 0.0
	for _, x := range ra.emails {
		for _, y := range rb.emails {
			if x.full == y.full {
				if m.shared[hashKey(keyEmail, x.full)] {
					weak += wSharedID
					sharedW += wSharedID
					if explain {
						why = append(why, "shared email "+x.full)
					}
				} else {
					strong++
					if explain {
						why = append(why, "same email "+x.full)
					}
				}
			}
		}
	}
	for _, x := range ra.phones {
		for _, y := range rb.phones {
			if x.e164 != y.e164 {
				continue
			}
			kind := x.kind
			if kind == kindOther || kind == kindFax && y.kind != kindFax {
				kind = y.kind
			}
			switch {
			case x.kind == kindFax || y.kind == kindFax:
				weak += wFax
				if explain {
					why = append(why, "same fax "+x.e164)
				}
			case m.shared[hashKey(keyPhone, x.e164)]:
				weak += wSharedID
				sharedW += wSharedID
				if explain {
					why = append(why, "shared "+kindNames[kind]+" "+x.e164)
				}
			case kind == kindHome && nr == relWeak:
				// A landline belongs to a household: with only an initial
				// or part of a name agreeing it may be another member.
				weak += wSharedID
				if explain {
					why = append(why, "same "+kindNames[kind]+" "+x.e164)
				}
			default:
				strong++
				if explain {
					why = append(why, "same "+kindNames[kind]+" "+x.e164)
				}
			}
		}
	}
	if strong == 0 && (ra.scanned || rb.scanned) && nr >= relWeak {
		// An OCR slip in a scanned email counts when the names agree.
		for _, x := range ra.emails {
			for _, y := range rb.emails {
				if x.full != y.full && ocrFold(x.full) == ocrFold(y.full) &&
					!m.shared[hashKey(keyEmail, x.full)] && !m.shared[hashKey(keyEmail, y.full)] {
					strong++
					if explain {
						why = append(why, fmt.Sprintf("email %s matches %s allowing for OCR slips", x.full, y.full))
					}
				}
			}
		}
	}
	sameOrg := ra.org != "" && ra.org == rb.org && ra.nm.org == ""
	if sameOrg {
		// A switchboard or info@ address says no more than the
		// organisation they belong to.
		weak += wOrg - sharedW*3/4
		if explain {
			why = append(why, "same organisation")
		}
	}
	if ra.title != "" && ra.title == rb.title {
		if sameOrg {
			weak += wTitle
		} else {
			weak += wTitle / 4
		}
		if explain {
			why = append(why, "same title")
		}
	}
	for _, x := range ra.addrs {
		for _, y := range rb.addrs {
			if x == y {
				if m.shared[hashKey(keyAddr, x)] {
					weak += wSharedAddr
					if explain {
						why = append(why, "shared address")
					}
				} else {
					weak += wAddr
					if explain {
						why = append(why, "same address")
					}
				}
			}
		}
	}
	e.score = float64(strong)*wStrong + weak + float64(nr)
	if explain {
		e.reason = strings.Join(append(why, m.nameReason(a, b, nr, how)), "; ")
	}
	switch {
	case strong > 0:
		return e, true
	case ra.nm.org != "" && nr == relSame && weak > 0:
		// Two cards of one organisation: its switchboard and info@ address
		// are shared with its people, and still identify it.
		return e, true
	case nr >= relOCR && ra.nm.full() && rb.nm.full() && weak >= mergeWeak:
		// relOCR needs a scanned card: the slips count because the rest agrees.
		return e, true
	case nr >= relOCR && weak > 0, nr == relWeak && weak >= 1.5:
		e.score = min(0.9, 0.3+0.15*weak+0.05*float64(nr-relWeak))
	case nr == relSame && ra.nm.full() && rb.nm.full() && (ra.thin() || rb.thin()):
		e.score = 0.2
		if explain {
			e.reason = m.nameReason(a, b, nr, how) + "; nothing else to compare"
		}
	default:
		e.score = 0
	}
	return e, false
}

// anyCommon reports whether a and b share anything judge counts besides the
// name: an email (or, with a scan, any emails to compare for OCR slips), a
// phone, the organisation, the title, an address.
func anyCommon(a, b *rec) bool {
	if a.org != "" && a.org == b.org || a.title != "" && a.title == b.title {
		return true
	}
	if (a.scanned || b.scanned) && len(a.emails) > 0 && len(b.emails) > 0 {
		return true
	}
	for _, x := range a.emails {
		for _, y := range b.emails {
			if x.full == y.full {
				return true
			}
		}
	}
	for _, x := range a.phones {
		for _, y := range b.phones {
			if x.e164 == y.e164 {
				return true
			}
		}
	}
	for _, x := range a.addrs {
		for _, y := range b.addrs {
			if x == y {
				return true
			}
		}
	}
	return false
}

// full reports whether n has both a given and a family name, or names an
// organisation.
func (n *name) full() bool { return n.org != "" || len(n.given) > 0 && n.family != "" }

// thin reports whether r has no email and no phone to compare.
func (r *rec) thin() bool { return len(r.emails) == 0 && len(r.phones) == 0 }

// nameReason says in words how the names of records a and b compare.
func (m *matcher) nameReason(a, b int32, nr rel, how string) string {
	da, db := m.recs[a].disp, m.recs[b].disp
	pair := da + " / " + db
	if da == db {
		pair = da
	}
	switch nr {
	case relSame:
		if how == "" {
			if da == db {
				return "same name (" + da + ")"
			}
			return "names agree (" + pair + ")"
		}
		return "names agree, " + how + " (" + pair + ")"
	case relWeak, relOCR:
		if how == "" {
			return "names compatible (" + pair + ")"
		}
		return "names compatible, " + how + " (" + pair + ")"
	}
	return "no name to compare (" + pair + ")"
}

// union joins records: the user's Together decisions first, then the
// automatic joins strongest first, each refused when it would put records
// the user kept apart, or two clearly different names, into one group.
func (m *matcher) union(ctx context.Context, joins, possible []edge, cons []Constraint) (Result, error) {
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
	// reasons[r] are the lines of root r's joins, as indexes into lines;
	// the words of automatic joins are written after the joining, on all
	// CPUs (explaining a pair compares it again).
	reasons := make([][]int32, n)
	var lines []reasonLine
	addLine := func(r, gone int32, l reasonLine) {
		joinReasons(reasons, r, gone, int32(len(lines)))
		lines = append(lines, l)
	}
	// refused are the automatic joins a clash refused (see contested).
	var refused []edge
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
		r := u.join(ra, rb, m)
		addLine(r, ra^rb^r, reasonLine{a: a, b: b, user: true})
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
		if m.fs {
			if a, b, why := m.clash(u, ra, rb, e.a, e.b); why != 0 {
				possible = append(possible, edge{a: e.a, b: e.b, score: e.score,
					reason: fmt.Sprintf("; but the group would hold %s (%s / %s)", vetoText(why), m.recs[a].disp, m.recs[b].disp)})
				refused = append(refused, e)
				continue
			}
		} else if a, b, bad := m.namesClash(u, ra, rb); bad {
			possible = append(possible, edge{a: e.a, b: e.b, score: 0.5,
				reason: "; but the group would hold different names (" + m.recs[a].disp + " / " + m.recs[b].disp + ")"})
			continue
		}
		r := u.join(ra, rb, m)
		addLine(r, ra^rb^r, reasonLine{a: e.a, b: e.b, score: e.score})
	}
	if gone := m.contested(lines, refused); gone != nil {
		possible = m.rejoin(u, lines, reasons, gone, apart, possible)
	}
	texts := make([]string, len(lines))
	if err := parallel(ctx, len(lines), func(k int) {
		l := lines[k]
		switch {
		case l.undone:
			return // not a reason of any group
		case l.user:
			texts[k] = fmt.Sprintf("%s + %s: joined by the user", m.ev[l.a].Key, m.ev[l.b].Key)
			return
		}
		texts[k] = m.ev[l.a].Key + " + " + m.ev[l.b].Key + ": " + m.reason(l.a, l.b)
	}); err != nil {
		return Result{}, err
	}

	var res Result
	groupOf := make([]int32, n)
	for i := range groupOf {
		groupOf[i] = -1
	}
	// A group's members are a window of one array, as many as its root's
	// size, capped so that appending to one copies it out.
	members := make([]int, n)
	next := 0
	for i := 0; i < n; i++ {
		r := u.find(int32(i))
		if groupOf[r] < 0 {
			groupOf[r] = int32(len(res.Groups))
			var why []string
			if len(reasons[r]) > 0 {
				why = make([]string, len(reasons[r]))
				for j, k := range reasons[r] {
					why[j] = texts[k]
				}
			}
			size := int(u.size[r])
			res.Groups = append(res.Groups, Group{Reasons: why, Members: members[next : next : next+size]})
			next += size
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
		score := e.score
		if m.fs {
			score = probability(score)
		}
		p := Pair{A: int(min(e.a, e.b)), B: int(max(e.a, e.b)), Score: score, Reason: e.reason}
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
	if err := parallel(ctx, len(res.Possible), func(i int) {
		p := &res.Possible[i]
		p.Reason = m.reason(int32(p.A), int32(p.B)) + p.Reason
	}); err != nil {
		return Result{}, err
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
	return res, nil
}

// reasonLine is one join of union, to be put in words.
type reasonLine struct {
	a, b   int32
	score  float64
	user   bool // joined by the user's decision
	undone bool // left undone by rejoin
}

// contestMargin is how much stronger, in bits, a record's best join must
// be than a join a clash refused it, for the record to stay in its group.
const contestMargin = 1.0

// contested returns the records that union joined to a group while a
// join of about the same strength (within contestMargin of their best
// join) to a group that clashes with it was refused, each with the record
// of that refused join; nil for none. Such a record is as like two
// groups that cannot be one person: a father's card and his son's of one
// name at one address, one of them without the birthday or mobile that
// tells them apart. Which group took it is an accident of the order of
// equal scores, so it joins neither and is offered as a possible
// duplicate of both. Records joined by the user stay where they are.
func (m *matcher) contested(made []reasonLine, refused []edge) map[int32]int32 {
	if len(refused) == 0 {
		return nil
	}
	// best[x] is the strongest automatic join of a record x of a refused
	// join, -Inf when x made none, NaN when the user joined x.
	best := make(map[int32]float64, 2*len(refused))
	for _, e := range refused {
		best[e.a], best[e.b] = math.Inf(-1), math.Inf(-1)
	}
	for _, l := range made {
		for _, x := range [2]int32{l.a, l.b} {
			switch s, ok := best[x]; {
			case !ok:
			case l.user:
				best[x] = math.NaN()
			case l.score > s:
				best[x] = l.score
			}
		}
	}
	var gone map[int32]int32
	for _, e := range refused {
		for _, x := range [2]int32{e.a, e.b} {
			// -Inf (x made no join to leave) and NaN (the user joined
			// x) keep x where it is.
			if s := best[x]; !math.IsInf(s, -1) && e.score >= s-contestMargin {
				if gone == nil {
					gone = map[int32]int32{}
				}
				if _, seen := gone[x]; !seen {
					gone[x] = e.a ^ e.b ^ x
				}
			}
		}
	}
	return gone
}

// rejoin takes the contested records gone (see contested) out of their
// groups: the groups that hold one are undone to single records and
// joined again by lines, their joins in the order union made them, less
// the automatic joins of a contested record, which become possible pairs
// (appended to possible, which rejoin returns). The groups made again
// are parts of coherent groups, so no clash is checked; reasons[r] are
// set again for their roots, and lines left undone are marked. Joins a
// contested record's group refused are not tried again.
func (m *matcher) rejoin(u *unionFind, lines []reasonLine, reasons [][]int32, gone map[int32]int32, apart map[int32][]int32, possible []edge) []edge {
	undo := map[int32]bool{}
	for x := range gone {
		r := u.find(x)
		if undo[r] {
			continue
		}
		undo[r] = true
		for _, i := range u.members[r] {
			undo[i] = true
		}
	}
	for i := range undo {
		u.parent[i], u.size[i], u.reps[i], u.members[i], reasons[i] = i, 1, nil, []int32{i}, nil
		u.aparts[i] = nil
		if _, ok := apart[i]; ok {
			u.aparts[i] = []int32{i}
		}
	}
	for k := range lines {
		l := &lines[k]
		if !undo[l.a] {
			continue
		}
		if !l.user {
			x := l.a
			if _, ok := gone[x]; !ok {
				x = l.b
			}
			if z, ok := gone[x]; ok {
				l.undone = true
				possible = append(possible, edge{a: l.a, b: l.b, score: l.score, reason: m.contestedReason(x, z)})
				continue
			}
		}
		ra, rb := u.find(l.a), u.find(l.b)
		r := u.join(ra, rb, m)
		joinReasons(reasons, r, ra^rb^r, int32(k))
	}
	return possible
}

// joinReasons gives root r, which has absorbed root gone, gone's reasons
// and then the line k of their join.
func joinReasons(reasons [][]int32, r, gone, k int32) {
	reasons[r] = append(append(reasons[r], reasons[gone]...), k)
	reasons[gone] = nil
}

// contestedReason ends the reason of a join of record x left undone
// because x is as like record y, whose group cannot join x's.
func (m *matcher) contestedReason(x, y int32) string {
	return "; but " + m.recs[x].disp + " is as like " + m.recs[y].disp + " of another group, which cannot join this one: joined to neither"
}

// unpair returns the records of a pair made by pairKey, smaller first.
func unpair(p uint64) (a, b int32) { return int32(p >> 32), int32(p & 0xffffffff) }

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

// reason explains the pair a, b in words.
func (m *matcher) reason(a, b int32) string {
	if m.fs {
		_, why, _ := m.fsJudge(a, b)
		return why
	}
	ex, _ := m.judge(a, b, true)
	return ex.reason
}

// namesClash reports whether groups ra and rb hold two clearly different
// names, and which records carry them.
func (m *matcher) namesClash(u *unionFind, ra, rb int32) (int32, int32, bool) {
	for _, x := range m.reps(u, ra) {
		for _, y := range m.reps(u, rb) {
			if r, _ := nameRel(&m.recs[x].nm, &m.recs[y].nm); r == relConflict {
				return x, y, true
			}
		}
	}
	return 0, 0, false
}

// reps returns the distinct names of group r: records standing for each.
// A group of one record that has not been joined yet has no list.
func (m *matcher) reps(u *unionFind, r int32) []int32 {
	if u.reps[r] == nil && u.size[r] == 1 && !m.recs[r].nm.empty() {
		return []int32{r}
	}
	return u.reps[r]
}

// unionFind is a disjoint-set forest that also keeps, per root, the
// group's distinct names and its members under a user's Apart decision.
type unionFind struct {
	parent  []int32
	size    []int32
	reps    [][]int32
	aparts  [][]int32
	members [][]int32 // kept only for the probabilistic model's clash check
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n), reps: make([][]int32, n), aparts: make([][]int32, n), members: make([][]int32, n)}
	// Every record starts as a group of one, its member list a slice of
	// one shared array (capped, so a join copies it out).
	self := make([]int32, n)
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
		self[i] = int32(i)
		u.members[i] = self[i : i+1 : i+1]
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
func (u *unionFind) join(a, b int32, m *matcher) int32 {
	if u.size[a] < u.size[b] {
		a, b = b, a
	}
	ra, rb := m.reps(u, a), m.reps(u, b)
	u.parent[b] = a
	u.size[a] += u.size[b]
	for _, y := range rb {
		dup := false
		for _, x := range ra {
			if m.recs[x].disp == m.recs[y].disp {
				dup = true
				break
			}
		}
		if !dup {
			ra = append(ra, y)
		}
	}
	u.reps[a] = ra
	u.reps[b] = nil
	u.members[a] = append(u.members[a], u.members[b]...)
	u.members[b] = nil
	if len(u.aparts[b]) > 0 {
		u.aparts[a] = append(u.aparts[a], u.aparts[b]...)
		u.aparts[b] = nil
	}
	return a
}
