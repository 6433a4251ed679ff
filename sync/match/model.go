package match

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
)

// Estimation. Priors weigh as many pairs as these constants say, so a
// small address book keeps weights close to the priors and a large one
// earns its own.
const (
	uPairs       = 200_000 // random pairs sampled for u
	uRecords     = 8192    // records the pairs are drawn from, in a larger book
	uPrior       = 2000.0  // pseudo-pairs behind each prior u
	mPrior       = 30.0    // pseudo-pairs behind each prior m
	emRounds     = 20
	hhRounds     = 3 // rounds of m and the household model in turn
	uRounds      = 3
	tfPrior      = 2.0  // pseudo-records behind a level's u in term frequencies
	tfMaxBonus   = 1.0  // bits a rare name may add over the level's weight
	tfMaxBonusID = 6.0  // bits a rare identifier may add over the level's weight
	minBooks     = 1000 // the smallest address book the prior match rate assumes

	// mergeAt and possibleAt are the thresholds on a pair's total weight
	// in bits: the log2 odds that the records are one person.
	mergeAt    = 5.0
	possibleAt = 0.0
	// vetoAt is the weight of a disagreement on a trait (given name,
	// birthday) that marks two records as different people whatever else
	// agrees: no group may hold both.
	vetoAt = 6.0
)

// model holds the estimated weights.
type model struct {
	m, u [nComp][]float64
	w    [nComp][]float64 // log2(m/u)
	// hh is the household model (household.go).
	hh household
	// prior is log2 of the odds that two records picked at random are one
	// person, as the merge decision assumes it: never more than in a book
	// of minBooks records, so a small book does not join on little.
	prior float64
	// rawPrior is that odds as estimated, for discounting duplicates among
	// the random pairs.
	rawPrior float64
	// tf counts values per comparison (keyed by tfKey), for
	// term-frequency adjustment; tfN counts the values of each comparison.
	tf    map[uint64]int32
	tfN   [nComp]int
	pairs int // candidate pairs scored
}

// tfComparisons are the comparisons whose exact level is adjusted for how
// common the value is.
var tfComparisons = []int{cGiven, cFamily, cEmail, cPhone, cAddress, cOrg}

// countValues returns the term-frequency tables of every record. A name
// counts the records that carry it. An identifier (email, phone, address,
// organisation) counts the family names that carry it: one person's
// several cards share their email, and that makes it no commoner; a
// switchboard carried by twenty families is common.
func (m *matcher) countValues() (tf map[uint64]int32, tfN [nComp]int) {
	tf = make(map[uint64]int32, len(m.recs))
	// carriers are (value, family) pairs, counted once each.
	type carrier struct{ v, fam uint64 }
	ids := make([]carrier, 0, 2*len(m.recs))
	for i := range m.recs {
		r := m.recs[i]
		if r.nm.person() {
			if len(r.nm.gf) > 0 {
				tf[tfKey(cGiven, r.nm.gf[0].flat)]++
				tfN[cGiven]++
			}
			if r.nm.ff.flat != "" {
				tf[tfKey(cFamily, r.nm.ff.flat)]++
				tfN[cFamily]++
			}
		}
		fam := hashKey(0, r.nm.ff.ocr)
		if r.nm.org != "" {
			fam = hashKey(1, r.nm.org)
		}
		carried := r.nm.family != "" || r.nm.org != ""
		carry := func(c int, v string) {
			if v == "" {
				return
			}
			tfN[c]++
			if carried {
				ids = append(ids, carrier{tfKey(c, v), fam})
			}
		}
		for _, e := range r.emails {
			carry(cEmail, e.full)
		}
		for _, p := range r.phones {
			carry(cPhone, p.e164)
		}
		for k := range r.post {
			carry(cAddress, r.post[k].key())
		}
		carry(cOrg, r.org)
	}
	// Sorted by a hash of both, each (value, family) is counted once.
	both := func(x carrier) uint64 { return x.v ^ (x.fam * 0x9e3779b97f4a7c15) }
	radixSort(ids, both)
	for k, x := range ids {
		if k == 0 || both(x) != both(ids[k-1]) {
			tf[x.v]++
		}
	}
	return tf, tfN
}

// tfKey is the key of value v of comparison c in the term-frequency table.
func tfKey(c int, v string) uint64 { return hashKey(uint8(c), v) }

// tfAdjust returns the bits to add to comparison c's exact level when the
// agreeing value is v: negative for a value many records carry (a
// switchboard, "Smith", a big city), up to tfMaxBonus for a rare one. The
// pair itself is not counted among the carriers.
func (m *matcher) tfAdjust(c int, v string) float32 {
	md := &m.model
	if m.noTF || md.tf == nil || md.u[c] == nil {
		return 0
	}
	exact := len(md.u[c]) - 1
	if c == cPhone {
		exact = 3
	}
	uL := md.u[c][exact]
	// The pair itself is not among the others: two records of a name, or
	// one family, for an identifier.
	n := float64(md.tf[tfKey(c, v)])
	others := max(n-2, 0)
	if c != cGiven && c != cFamily {
		others = max(n-1, 0)
	}
	uV := (others + tfPrior*uL) / (float64(md.tfN[c]) + tfPrior)
	// How common a value is means something in a large book only: in a
	// small one, three cards of one Lee make Lee look common, and every
	// value looks rare.
	scale := min(1, float64(md.tfN[c])/minBooks)
	if c != cGiven && c != cFamily {
		// An identifier that clearly different families carry (a
		// switchboard) loses weight in any book.
		adj := math.Log2(uL / uV)
		if adj > 0 {
			return float32(min(adj, tfMaxBonusID) * scale)
		}
		return float32(adj)
	}
	return float32(min(math.Log2(uL/uV), tfMaxBonus) * scale)
}

// estimateU samples pairs of records at random (all pairs of a small
// book) and sets u from them, smoothed towards the priors. Random pairs
// are nearly all of different people; refineU later discounts the few
// that are not.
func (m *matcher) estimateU(ctx context.Context) error {
	n := len(m.recs)
	var pairs [][2]int32
	if n*(n-1)/2 <= uPairs {
		for a := 0; a < n; a++ {
			for b := a + 1; b < n; b++ {
				pairs = append(pairs, [2]int32{int32(a), int32(b)})
			}
		}
	} else {
		// In a book larger than uRecords the pairs are drawn from a random
		// subset of that many records: every pair of records is as likely
		// to be drawn as before, and the records read fit in the cache
		// (random pairs of a 100k book each read two records from memory).
		rng := rand.New(rand.NewPCG(uint64(n), 0x6b697468))
		from := sampleOf(rng, n, uRecords)
		s := len(from)
		for range uPairs {
			a, b := rng.IntN(s), rng.IntN(s-1)
			if b >= a {
				b++
			}
			pairs = append(pairs, [2]int32{from[a], from[b]})
		}
	}
	m.sample = make([]uint64, len(pairs))
	order := m.localOrder(len(pairs), func(k int) (int32, int32) { return pairs[k][0], pairs[k][1] })
	if err := parallel(ctx, len(pairs), func(i int) {
		k := order[i]
		p := m.compare(m.recs[pairs[k][0]], m.recs[pairs[k][1]], false)
		m.sample[k] = p.v.pack()
	}); err != nil {
		return err
	}
	m.setU(func(uint64) float64 { return 1 })
	return nil
}

// sampleOf returns k distinct indexes below n drawn at random (all of them
// when n <= k), ascending.
func sampleOf(rng *rand.Rand, n, k int) []int32 {
	if n <= k {
		all := make([]int32, n)
		for i := range all {
			all[i] = int32(i)
		}
		return all
	}
	// Floyd's algorithm: k draws, no array of n.
	seen := make(map[int32]bool, k)
	out := make([]int32, 0, k)
	for j := n - k; j < n; j++ {
		t := int32(rng.IntN(j + 1))
		if seen[t] {
			t = int32(j)
		}
		seen[t] = true
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// setU sets u from the sampled pairs, each counted with weight(pair):
// 1 at first, then the probability that the pair is not one person.
func (m *matcher) setU(weight func(key uint64) float64) {
	var counts [nComp][]float64
	var nonNull [nComp]float64
	for c := range comparisons {
		counts[c] = make([]float64, len(comparisons[c].levels))
	}
	for _, k := range m.sample {
		w := weight(k)
		v := unpack(k)
		for c, l := range v {
			if l != null {
				counts[c][l] += w
				nonNull[c] += w
			}
		}
	}
	for c := range comparisons {
		lv := comparisons[c].levels
		m.model.u[c] = make([]float64, len(lv))
		for l := range lv {
			m.model.u[c][l] = (counts[c][l] + uPrior*lv[l].u) / (nonNull[c] + uPrior)
		}
	}
}

// refineU sets u again from the sampled pairs, each weighted by the
// probability, under the estimated model, that it is not one person: in a
// book where many records have duplicates, random pairs that share an
// email are mostly duplicates, and would make an email look common.
func (m *matcher) refineU() {
	md := &m.model
	// The sample's 200,000 pairs share a few hundred patterns: the weight of
	// each is worked out once.
	memo := make(map[uint64]float64)
	m.setU(func(k uint64) float64 {
		w, ok := memo[k]
		if !ok {
			v := unpack(k)
			w = 1 - probability(md.rawPrior+md.sum(&v))
			memo[k] = w
		}
		return w
	})
}

// scored is a candidate pair with what compare found, packed.
type scored struct {
	pair uint64 // i<<32 | j
	key  uint64 // vector.pack
	tf   float32
	veto uint8
	// tfPhone is the phone's term-frequency adjustment, for model.strong.
	tfPhone float32
	// skip marks a pair too weak to matter, whatever its values' frequencies.
	skip bool
}

// compareAll compares every candidate pair on all CPUs, in the order
// their records sit in memory.
func (m *matcher) compareAll(ctx context.Context, pairs []uint64) ([]scored, error) {
	out := make([]scored, len(pairs))
	order := m.localOrder(len(pairs), func(k int) (int32, int32) { return unpair(pairs[k]) })
	err := parallel(ctx, len(order), func(i int) {
		k := order[i]
		a, b := unpair(pairs[k])
		p := m.compare(m.recs[a], m.recs[b], false)
		var tf float32
		for _, x := range p.tf {
			tf += x
		}
		out[k] = scored{pair: pairs[k], key: p.v.pack(), tf: tf, veto: p.veto, tfPhone: p.tf[cPhone]}
	})
	return out, err
}

func unpack(k uint64) vector {
	var v vector
	for c := nComp - 1; c >= 0; c-- {
		v[c] = int8(k&7) - 1
		k >>= 3
	}
	return v
}

// patternsOf counts the candidates' comparison patterns, in a fixed order.
func patternsOf(cands []scored) []pattern {
	counts := map[uint64]float64{}
	for _, s := range cands {
		counts[s.key]++
	}
	ps := make([]pattern, 0, len(counts))
	for k, n := range counts {
		ps = append(ps, pattern{unpack(k), n})
	}
	slices.SortFunc(ps, func(a, b pattern) int { return slices.Compare(a.v[:], b.v[:]) })
	return ps
}

// estimateM sets m by expectation-maximisation over the candidate pairs'
// comparison patterns, u held fixed, with the priors as pseudo-counts and
// each level's weight kept on its side of zero. It also sets the prior
// odds of a match.
func (m *matcher) estimateM(ps []pattern) {
	md := &m.model
	var home []pattern // the patterns of pairs that share a home
	for _, p := range ps {
		if sharesHome(&p.v) {
			home = append(home, p)
		}
	}
	md.hh = household{}
	for c := range comparisons {
		md.m[c] = make([]float64, len(comparisons[c].levels))
		for l, lv := range comparisons[c].levels {
			md.m[c][l] = lv.m
		}
	}
	md.setWeights()
	// Pairs that share an employer or a household agree on many fields at
	// once; over all candidates EM would take them for one person and learn
	// that names may differ. So, as Splink trains, the m of a comparison is
	// learnt only from pairs not chosen by that comparison: the other
	// fields from pairs whose names do not differ, the names from pairs
	// that share a personal identifier (email, mobile, birthday).
	byName := func(v *vector) bool { return v[cGiven] != 0 && v[cFamily] != 0 }
	byID := func(v *vector) bool { return v[cEmail] == 4 || v[cPhone] == 4 || v[cBirthday] == 4 }
	notNames := func(c int) bool { return c != cGiven && c != cFamily }
	names := func(c int) bool { return c == cGiven || c == cFamily }
	// As Splink trains, the comparisons a session's pairs were chosen by
	// take no part in its posteriors: pairs chosen for agreeing names
	// would all look like one person by their names alone, namesakes too.
	em := func(in func(*vector) bool, chosen func(int) bool, learn func(int) bool) {
		lambda := 0.3
		for round := 0; round < emRounds; round++ {
			var counts [nComp][]float64
			var sums [nComp]float64
			for c := range comparisons {
				counts[c] = make([]float64, len(comparisons[c].levels))
			}
			seen, matched := 0.0, 0.0
			odds := math.Log2(lambda / (1 - lambda))
			for k := range ps {
				p := &ps[k]
				if !in(&p.v) {
					continue
				}
				w := odds
				for c, l := range p.v {
					if l != null && !chosen(c) {
						w += md.w[c][l]
					}
				}
				if md.hh.set && sharesHome(&p.v) {
					// Or two of one household (household.go).
					h := md.hh.lambda
					for c, l := range p.v {
						if !chosen(c) {
							h += md.hh.personalTerm(md, c, l, 0)
						}
					}
					w = -math.Log2(math.Exp2(-w) + math.Exp2(-h))
				}
				post := probability(w)
				seen += p.n
				matched += post * p.n
				for c, l := range p.v {
					if l != null {
						counts[c][l] += post * p.n
						sums[c] += post * p.n
					}
				}
			}
			if seen == 0 {
				return
			}
			for c, cmp := range comparisons {
				if !learn(c) {
					continue
				}
				for l, lv := range cmp.levels {
					md.m[c][l] = (counts[c][l] + mPrior*lv.m) / (sums[c] + mPrior)
				}
			}
			md.setWeights()
			lambda = min(max((matched+3)/(seen+10), 1e-6), 0.9)
		}
	}
	ids := func(c int) bool { return c == cEmail || c == cPhone || c == cBirthday }
	// Households are estimated with m, and m again with them: pairs of
	// one household would otherwise teach m that one person's cards
	// differ in birthday and given name.
	for range hhRounds {
		em(byName, names, notNames)
		em(byID, ids, names)
		md.estimateHousehold(home)
	}
	matches := 0.0
	for _, p := range ps {
		matches += p.n * probability(math.Log2(0.1/0.9)+md.sum(&p.v))
	}
	n := float64(len(m.recs))
	all := max(n*(n-1)/2, 1)
	rate := min(max(matches, 0.5)/all, 0.5)
	md.rawPrior = math.Log2(rate / (1 - rate))
	rate = min(rate, 1/max(n, minBooks))
	md.prior = math.Log2(rate / (1 - rate))
}

// setWeights computes log2(m/u), agreements at least 0 and disagreements at
// most 0.
func (md *model) setWeights() {
	for c, cmp := range comparisons {
		md.w[c] = make([]float64, len(cmp.levels))
		for l, lv := range cmp.levels {
			md.w[c][l] = clampWeight(lv, md.m[c][l], md.u[c][l])
		}
	}
}

// clampWeight is log2(m/u) for level lv, at least 0 for an agreement and at
// most 0 for a disagreement.
func clampWeight(lv level, m, u float64) float64 {
	w := math.Log2(max(m, 1e-6) / max(u, 1e-9))
	if lv.agrees {
		return max(w, 0)
	}
	return min(w, 0)
}

// sum is the total weight of v.
func (md *model) sum(v *vector) float64 {
	w := 0.0
	for c, l := range v {
		if l != null {
			w += md.w[c][l]
		}
	}
	return w
}

// weight is the total of a pair's comparison vector and term-frequency
// adjustment (tf in all, tfPhone the phone's), with the prior.
func (md *model) weight(key uint64, tf, tfPhone float32) float64 {
	w := md.prior + float64(tf)
	v := unpack(key)
	for c, l := range v {
		if l != null {
			w += md.w[c][l]
		}
	}
	if h, ok := md.hh.odds(md, &v, tfPhone); ok {
		// Not one person: unrelated, or two of one household.
		w = -math.Log2(math.Exp2(-w) + math.Exp2(-h))
	}
	return w
}

// strong returns the veto flags of a pair, with vetoWeight when a trait
// of the person (given name, family name, birthday) disagrees with a
// weight of vetoAt bits or more, unless the two share a mobile number no
// one else has: a person's own number outweighs a name or a birthday
// change. Addresses, employers and numbers change: their disagreement only
// counts in the score.
func (md *model) strong(key uint64, tfPhone float32, veto uint8) uint8 {
	v := unpack(key)
	for _, c := range []int{cGiven, cFamily, cBirthday} {
		if v[c] != null && md.w[c][v[c]] <= -vetoAt && !(v[cPhone] == 4 && tfPhone >= 0) {
			veto |= vetoWeight
		}
	}
	if h, ok := md.hh.odds(md, &v, tfPhone); ok && h <= -vetoAt {
		veto |= vetoHousehold
	}
	return veto
}

// probability turns a weight in bits into a probability.
func probability(w float64) float64 { return 1 / (1 + math.Exp2(-w)) }
