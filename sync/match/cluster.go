package match

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	gosync "sync"

	"kith/sync/normalize"
)

// Constraint is a user's decision about two records, named by their keys:
// keep them apart, or join them (Together). Together is transitive. Apart
// always wins: over automatic evidence, and over a Together that would join
// records kept apart.
type Constraint struct {
	A, B     string
	Together bool
}

// Options configure Cluster.
type Options struct {
	// Normalizer normalises emails and phones; nil reads phone numbers
	// without a country code as having none.
	Normalizer *normalize.Normalizer
	// RuleCascade selects the former matcher, a cascade of hand-set rules,
	// instead of the Fellegi-Sunter model; kept to measure the model
	// against it.
	RuleCascade bool
	// phase, if set, is called as each phase of the work ends, with its
	// name ("" at the start), for benchmarks.
	phase func(name string)
}

// Group is one person: the records that describe them.
type Group struct {
	// Members are indexes into Cluster's input, ascending.
	Members []int
	// Reasons say in words why the members were joined, one line a join,
	// e.g. "work:ann.vcf + home:ann.vcf: same email ann@example.com; names
	// agree (Ann Lee / Anne Lee)".
	Reasons []string
}

// Pair is a doubtful pair of records: some evidence says they are one
// person, not enough to join them.
type Pair struct {
	// A and B are indexes into Cluster's input, A < B.
	A, B int
	// Score is between 0 and 1: higher is more likely the same person.
	Score float64
	// Reason says in words what agrees and what is missing.
	Reason string
}

// Result is the outcome of Cluster.
type Result struct {
	// Groups hold every input index in exactly one group, ordered by first member.
	Groups []Group
	// Possible are doubtful pairs in different groups, most likely first:
	// possible duplicates for the user to decide, never joined.
	Possible []Pair
	// Blocking says how many pairs of records were compared.
	Blocking Blocking
}

// Blocking counts the candidate pairs: the pairs of records that share a
// blocking key and so are compared, never all pairs.
type Blocking struct {
	// Pairs are the pairs compared.
	Pairs int
	// Budget is the most partners a record takes from keys of names,
	// sounds and places (see partnerBudget); pairs that share an
	// identifier (email, phone, address, birthday) are not counted.
	Budget int
	// Dropped are the pairs that shared only such keys and were over the
	// budget of both their records: the weakest partners of records with
	// many namesakes.
	Dropped int
}

// Tuning. Blocks larger than maxBlock are not compared all pairs; each
// member is compared with its window neighbours in name order instead.
const (
	maxBlock = 48
	window   = 12
	maxReps  = 16
	maxCross = 1024

	maxNameBlock = 24
	nameWindow   = 8
)

// entriesPerRecord is about how many blocking keys a record has (the
// first guess of sortedKeys' buffers).
const entriesPerRecord = 24

// partnerBudget is the most partners a record keeps from keys of names,
// sounds and places, strongest first (see prune). A pair stays if it is
// among the strongest of either record, so the candidate pairs are at most
// partnerBudget a record beside those that share an identifier, however
// many namesakes a book holds.
const partnerBudget = 16

// Cluster groups the records in ev that describe the same person, keeping
// the user's decisions in cons. Constraints naming unknown keys are ignored
// (their records may be gone). It returns ctx's error if ctx ends first.
func Cluster(ctx context.Context, ev []Evidence, cons []Constraint, opts Options) (Result, error) {
	res, _, _, err := cluster(ctx, ev, cons, opts)
	return res, err
}

// cluster is Cluster, also returning the matcher with its estimated model
// and the candidate pairs.
func cluster(ctx context.Context, ev []Evidence, cons []Constraint, opts Options) (Result, *matcher, []uint64, error) {
	m, pairs, err := newMatcher(ctx, ev, opts)
	if err != nil {
		return Result{}, nil, nil, err
	}
	judgeAll := m.judgeAll
	if m.fs {
		judgeAll = m.fsJudgeAll
	}
	joins, possible, err := judgeAll(ctx, pairs)
	if err != nil {
		return Result{}, nil, nil, fmt.Errorf("match: scoring: %w", err)
	}
	res, err := m.union(ctx, joins, possible, cons)
	if err != nil {
		return Result{}, nil, nil, fmt.Errorf("match: grouping: %w", err)
	}
	m.mark("grouping")
	res.Blocking = m.blocking
	return res, m, pairs, nil
}

// newMatcher normalises ev and returns the candidate pairs.
func newMatcher(ctx context.Context, ev []Evidence, opts Options) (*matcher, []uint64, error) {
	m := &matcher{ev: ev, recs: make([]*rec, len(ev)), fs: !opts.RuleCascade, phase: opts.phase, budget: partnerBudget}
	m.mark("")
	// Records are laid out in memory in name order (see compact): most
	// candidate pairs are namesakes, and comparing them then reads memory
	// that is near, often already in the cache.
	order := nameOrder(ev)
	slab := make([]rec, len(ev))
	m.pos = make([]int32, len(ev))
	m.sounds = make([]sounds, len(ev))
	if err := parallelBatches(ctx, len(ev), compactBatch, func(lo, hi int) {
		bt := newBatch(ev, order[lo:hi])
		for k := lo; k < hi; k++ {
			prepare(&slab[k], &ev[order[k]], opts.Normalizer, bt)
			m.recs[order[k]] = &slab[k]
			m.pos[order[k]] = int32(k)
		}
		compact(slab[lo:hi])
		m.soundsOf(slab[lo:hi], order[lo:hi])
	}); err != nil {
		return nil, nil, fmt.Errorf("match: normalising: %w", err)
	}
	for i := range m.recs {
		if m.recs[i].scanned {
			m.anyScanned = true
			break
		}
	}
	m.mark("prepare")
	// The model's u sample and term-frequency counts need the records,
	// not the candidate pairs: they are made beside blocking, on the CPUs
	// its serial steps (merging, pruning) leave idle. Term frequencies
	// depend on u, so compare leaves them out until fsJudgeAll sets noTF
	// false.
	var side gosync.WaitGroup
	var sampled error
	if m.fs {
		m.noTF = true
		side.Go(func() { sampled = m.estimateU(ctx) })
		side.Go(func() { m.model.tf, m.model.tfN = m.countValues() })
	}
	pairs, err := m.candidates(ctx)
	if err == nil {
		m.mark("blocking")
	}
	side.Wait()
	if err != nil {
		return nil, nil, fmt.Errorf("match: blocking: %w", err)
	}
	if sampled != nil {
		return nil, nil, fmt.Errorf("match: scoring: %w", sampled)
	}
	if m.fs {
		m.mark("usample")
	}
	return m, pairs, nil
}

type matcher struct {
	ev         []Evidence
	recs       []*rec   // by input index, laid out in name order
	pos        []int32  // where each record sits in that layout
	sounds     []sounds // by input index
	anyScanned bool
	shared     map[uint64]bool // identifier hashes carried by clearly different people (rule cascade)
	// fs selects the probabilistic model (not Options.RuleCascade).
	fs    bool
	model model
	// sample are the comparison vectors of random pairs, for u.
	sample []uint64
	// noTF leaves term frequencies out of compare, while u is estimated.
	noTF bool
	// phase is Options.phase.
	phase func(name string)
	// budget is the partner budget of prune (< 0: none); blocking says
	// what candidates did.
	budget   int
	blocking Blocking
	// slips index the records by the names slip keys are made from:
	// keySlipGiven, keySlipFamily.
	slips [2]slipIndex
}

// mark tells Options.phase that a phase ended.
func (m *matcher) mark(name string) {
	if m.phase != nil {
		m.phase(name)
	}
}

// parallel runs f(0..n-1) on all CPUs in contiguous chunks.
func parallel(ctx context.Context, n int, f func(i int)) error {
	return parallelBatches(ctx, n, 1024, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	})
}

// key kinds.
const (
	keyEmail uint8 = iota + 1
	keyPhone
	keyAddr
	keyEmailOCR
	keyName    // same family and given name (OCR-folded), or nickname group
	keyInitial // same family and initial: initials and OCR-slipped scans against full names
	keySound   // same given name and family name sound
	keyOrg
	keyBirthday  // the same full birthday
	keyPostcode  // the same postcode and street number
	keySounds    // the sound keys of both names, in either order
	keySubscribe // the same last eight digits of a phone number
	keyLone      // a lone name word, as a given or family name
	keyPlace     // a name or the street's first word, with the postcode or locality
	// keySlipGiven is the family name's sound with the given name, its
	// first and last three letters, or the given name less one letter
	// (symmetric deletion): "Sofie" and "Sogie", "Katarzyna" and
	// "Katazryna", "Leilani" and "Leiani" share a key, and so do "Bart"
	// and "Bartholomew", "Ming" and "Xiaoming".
	keySlipGiven
	// keySlipFamily is the given name's sound with the family name or
	// the family name less one letter: "Lindqvist" and "Lindqvvist".
	keySlipFamily
)

// keyEntry puts record i in the block of hash h, in a role. Members are
// compared with every other entry of the block; targets only with members
// and probes; probes only with members and targets. So a full name waits in
// its family-and-initial block for records that give only an initial,
// without being compared with every other full name there, and a record
// looking for its name in swapped order meets only the names it could be.
type keyEntry struct {
	h    uint64
	i    int32
	kind uint8
	role uint8
	// tag tells the names of a slip block's entries apart: a hash of the
	// name the entry was made from (see slipKeys).
	tag uint16
}

const (
	roleMember uint8 = iota
	roleTarget
	roleProbe
)

func hashKey(kind uint8, parts ...string) uint64 {
	h := hashStart(kind)
	for _, p := range parts {
		h = hashPart(h, p, -1)
	}
	return h
}

func hashStart(kind uint8) uint64 {
	return (uint64(14695981039346656037) ^ uint64(kind)) * 1099511628211
}

// hashPart adds p to h, less its byte at skip (none if skip < 0), as
// hashKey does.
func hashPart(h uint64, p string, skip int) uint64 {
	for i := 0; i < len(p); i++ {
		if i != skip {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
	}
	h ^= 0xff
	return h * 1099511628211
}

// slipValue returns the sound and name record i's slip keys of kind are
// made from, or ok false if it has none.
func (m *matcher) slipValue(i int, kind uint8) (sound, s string, ok bool) {
	n := &m.recs[i].nm
	if n.ff.ocr == "" || len(n.gf) == 0 {
		return "", "", false
	}
	if kind == keySlipGiven {
		sound, s = m.sounds[i].family, n.gf[0].ocr
	} else {
		sound, s = m.sounds[i].given, n.ff.ocr
	}
	return sound, s, len(s) >= minSlip
}

// slipIndex groups records by the name one kind of slip key is made
// from: each name's keys are made once, by the first record of its run
// (most cards of a book share their name with others).
type slipIndex struct {
	recs []int32 // the records with a name, grouped by name
	at   []int32 // run k is recs[at[k]:at[k+1]]
	run  []int32 // by record, the run it is the first of, or -1
}

// slipIndexOf builds the slipIndex of kind.
func (m *matcher) slipIndexOf(ctx context.Context, kind uint8) (slipIndex, error) {
	type valued struct {
		v uint64
		i int32
	}
	vs := make([]valued, len(m.recs))
	if err := parallel(ctx, len(m.recs), func(i int) {
		vs[i] = valued{i: -1}
		if sound, s, ok := m.slipValue(i, kind); ok {
			vs[i] = valued{v: hashPart(hashPart(hashStart(kind), sound, -1), s, -1), i: int32(i)}
		}
	}); err != nil {
		return slipIndex{}, err
	}
	vs = slices.DeleteFunc(vs, func(x valued) bool { return x.i < 0 })
	radixSort(vs, func(x valued) uint64 { return x.v })
	x := slipIndex{recs: make([]int32, len(vs)), run: make([]int32, len(m.recs))}
	for i := range x.run {
		x.run[i] = -1
	}
	for k, e := range vs {
		if k == 0 || e.v != vs[k-1].v {
			x.run[e.i] = int32(len(x.at))
			x.at = append(x.at, int32(k))
		}
		x.recs[k] = e.i
	}
	x.at = append(x.at, int32(len(vs)))
	return x, nil
}

// minSlip is the shortest name slip keys are made for; a shorter one
// less a letter is two letters, shared by too many names to say anything.
const minSlip = 4

// slipKeys appends the keys of kind in which sound with name s meets the
// same sound with s less one letter, or s with a letter more, a letter
// changed or two neighbours swapped (one edit apart, Damerau). Names of
// fewer than minSlip letters have none.
func slipKeys(out []keyEntry, i int32, kind uint8, sound, s string) []keyEntry {
	if len(s) < minSlip {
		return out
	}
	h := hashPart(hashStart(kind), sound, -1)
	whole := hashPart(h, s, -1)
	tag := uint16(whole>>48) | 1
	out = append(out, keyEntry{h: whole, i: i, kind: kind, tag: tag})
	for k := range len(s) {
		if k > 0 && s[k] == s[k-1] {
			continue // "anna" less its first or second n is one key
		}
		out = append(out, keyEntry{h: hashPart(h, s, k), i: i, kind: kind, tag: tag})
	}
	if kind == keySlipGiven {
		// A short form the nickname table does not know: the first or
		// last three letters ("^" and "$" keep them apart from a name
		// less a letter).
		out = append(out, keyEntry{h: hashPart(hashPart(h, "^", -1), s[:3], -1), i: i, kind: kind, tag: tag},
			keyEntry{h: hashPart(hashPart(h, "$", -1), s[len(s)-3:], -1), i: i, kind: kind, tag: tag})
	}
	return out
}

// keys appends the blocking keys of record i to out.
func (m *matcher) keys(i int, out []keyEntry) []keyEntry {
	r := m.recs[i]
	start := len(out)
	// The sound keys of the family and first given name, read by several keys.
	famSound, givenSound := m.sounds[i].family, m.sounds[i].given
	// A record's keys are few; a card with 100k phones has 100k: past a
	// handful they are found through a map, not a scan of those so far.
	var at map[uint64]int
	add := func(role uint8, kind uint8, parts ...string) {
		h := hashKey(kind, parts...)
		k, found := -1, false
		if at != nil {
			k, found = at[h]
		} else {
			for j := start; j < len(out) && !found; j++ {
				k, found = j, out[j].h == h
			}
		}
		if found {
			if out[k].role != role {
				out[k].role = roleMember
			}
			return
		}
		out = append(out, keyEntry{h: h, i: int32(i), kind: kind, role: role})
		switch {
		case at != nil:
			at[h] = len(out) - 1
		case len(out)-start > 32:
			at = make(map[uint64]int, 2*(len(out)-start))
			for j := start; j < len(out); j++ {
				at[out[j].h] = j
			}
		}
	}
	for _, e := range r.emails {
		add(roleMember, keyEmail, e.full)
		if m.anyScanned {
			add(roleMember, keyEmailOCR, e.ocr)
		}
	}
	for _, p := range r.phones {
		add(roleMember, keyPhone, p.e164)
		if m.fs && len(p.e164) >= 9 {
			add(roleMember, keySubscribe, p.e164[len(p.e164)-8:])
		}
	}
	if m.fs {
		if r.bday.full() {
			add(roleMember, keyBirthday, dateDigits(r.bday))
			y := dateDigits(r.bday)[:4]
			if r.nm.family != "" {
				add(roleMember, keyBirthday, famSound, y)
			}
			if len(r.nm.gf) > 0 {
				add(roleMember, keyBirthday, givenSound, y)
			}
		}
		if r.bday.m != 0 && r.bday.d != 0 {
			// Month and day with a name's sound: a birthday written
			// without its year (--MMDD) meets the full one.
			md := dateDigits(date{m: r.bday.m, d: r.bday.d})[4:]
			if r.nm.family != "" {
				add(roleMember, keyBirthday, famSound, md)
			}
			if len(r.nm.gf) > 0 {
				add(roleMember, keyBirthday, givenSound, md)
			}
		}
		for _, a := range r.post {
			if a.postcode != "" && a.number != "" {
				add(roleMember, keyPostcode, a.postcode, a.number)
			}
			loc := strings.ReplaceAll(a.locality, " ", "")
			for _, place := range []string{a.postcode, loc} {
				if place == "" {
					continue
				}
				if a.street != "" && place == a.postcode {
					// A street with its town alone is a big block in a
					// big town (Hauptstraße, Berlin): with its postcode.
					add(roleMember, keyPlace, firstWord(a.street), place)
				}
				if r.nm.family != "" {
					add(roleMember, keyPlace, famSound, place)
				}
				if len(r.nm.gf) > 0 {
					add(roleMember, keyPlace, givenSound, place)
				}
				if a.ext != "" {
					add(roleMember, keyPlace, strings.ReplaceAll(a.ext, " ", ""), place)
				}
			}
			if a.street != "" && a.number != "" {
				add(roleMember, keyPlace, firstWord(a.street), a.number)
			}
		}
	}
	for _, a := range r.addrs {
		add(roleMember, keyAddr, a)
	}
	n := &r.nm
	if m.fs {
		switch {
		case lone(n) && n.family != "":
			add(roleMember, keyLone, n.ff.ocr)
		case lone(n):
			add(roleMember, keyLone, n.gf[0].ocr)
		case n.person():
			add(roleTarget, keyLone, n.ff.ocr)
			add(roleTarget, keyLone, n.gf[0].ocr)
		}
	}
	if n.org != "" {
		add(roleMember, keyOrg, n.org)
	}
	if fam := n.ff.ocr; fam != "" {
		var gid [5]byte
		flatSound := m.sounds[i].flat
		for k := range n.gf {
			g := &n.gf[k]
			if len(g.first) == 1 {
				add(roleMember, keyInitial, fam, ocrFold(g.first))
				continue
			}
			add(roleMember, keyName, fam, g.ocr)
			groups := g.groups
			if r.scanned {
				// A scanned "T0mmy" joins the group of Thomas.
				groups = nicknames().byOCR[g.ocr]
			}
			for _, id := range groups {
				add(roleMember, keyName, fam, string(appendInt(gid[:0], id)))
			}
			add(roleMember, keySound, flatSound, g.ocr)
			add(roleTarget, keyInitial, fam, ocrFold(g.first[:1]))
			for _, c := range nicknames().initialsOf(g.fgroups) {
				add(roleTarget, keyInitial, fam, ocrFold(string(c)))
			}
		}
		if m.fs && len(n.gf) > 0 {
			x, y := givenSound, famSound
			if x > y {
				x, y = y, x
			}
			add(roleMember, keySounds, x, y)
		}
		if len(n.gf) > 0 && n.gf[0].ocr != "" {
			// Swapped order: this record's given name as another's family name.
			add(roleProbe, keyInitial, n.gf[0].ocr, ocrFold(n.ff.flat[:1]))
		}
		// Slip keys last: they are many and all new, so the search for
		// keys already made need not scan them.
		for k, kind := range [...]uint8{keySlipGiven, keySlipFamily} {
			if m.fs && len(m.slips[k].run) > 0 && m.slips[k].run[i] >= 0 {
				sound, s, _ := m.slipValue(i, kind)
				out = slipKeys(out, int32(i), kind, sound, s)
			}
		}
	}
	return out
}

func appendInt(b []byte, v int32) []byte {
	return append(b, '#', byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// sounds are the sound keys (appendPhonetic) of a record's names that its
// blocking keys are made from.
type sounds struct {
	family string // of the family name, OCR-folded
	given  string // of the first given name, OCR-folded
	flat   string // of the family name, not OCR-folded
}

// soundsOf sets the sounds of the records of a batch, by input index: in
// one string for the batch, rather than one a name.
func (m *matcher) soundsOf(batch []rec, order []int32) {
	size := 0
	for k := range batch {
		n := &batch[k].nm
		size += len(n.ff.ocr) + len(n.ff.flat)
		if len(n.gf) > 0 {
			size += len(n.gf[0].ocr)
		}
	}
	// A sound key is never longer than its name.
	var sb strings.Builder
	sb.Grow(size)
	var tmp [64]byte
	at := make([]int32, 0, 3*len(batch)+1)
	add := func(s string) {
		at = append(at, int32(sb.Len()))
		sb.Write(appendPhonetic(tmp[:0], s))
	}
	for k := range batch {
		n := &batch[k].nm
		add(n.ff.ocr)
		if len(n.gf) > 0 {
			add(n.gf[0].ocr)
		} else {
			add("")
		}
		add(n.ff.flat)
	}
	at = append(at, int32(sb.Len()))
	all := sb.String()
	for k, i := range order {
		x := at[3*k:]
		m.sounds[i] = sounds{family: all[x[0]:x[1]], given: all[x[1]:x[2]], flat: all[x[2]:x[3]]}
	}
}

// appendPhonetic appends to b a rough sound key of a folded name: first
// letter kept, vowels and h, w, y dropped, similar consonants merged,
// repeats collapsed (Meyer and Maier, Schmidt and Schmitt agree).
func appendPhonetic(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, s[0])
	prev := byte(0)
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'h', 'w', 'y':
			prev = 0
			continue
		case 'c', 'k', 'q', 'g':
			c = 'k'
		case 'z', 's', 'x':
			c = 's'
		case 'v', 'f':
			c = 'f'
		case 'd', 't':
			c = 't'
		case 'b', 'p':
			c = 'p'
		case 'n', 'm':
			c = 'n'
		}
		if c != prev {
			b = append(b, c)
		}
		prev = c
	}
	return b
}

// candidates returns the pairs (i<<32 | j, i < j) that share a blocking key,
// deduplicated, and records which identifiers are shared. The blocks are
// cut into ranges paired on all CPUs.
func (m *matcher) candidates(ctx context.Context) ([]uint64, error) {
	if m.fs {
		for k, kind := range [...]uint8{keySlipGiven, keySlipFamily} {
			var err error
			if m.slips[k], err = m.slipIndexOf(ctx, kind); err != nil {
				return nil, err
			}
		}
	}
	entries, err := m.sortedKeys(ctx)
	if err != nil {
		return nil, err
	}
	m.shared = map[uint64]bool{}
	workers := runtime.GOMAXPROCS(0)
	if len(entries) < 1<<16 {
		workers = 1
	}
	// Range w starts at the first block boundary at or after w/workers of
	// the entries, so no block is split.
	cuts := make([]int, workers+1)
	for w := 1; w < workers; w++ {
		c := max(len(entries)*w/workers, cuts[w-1])
		for c > 0 && c < len(entries) && entries[c].h == entries[c-1].h {
			c++
		}
		cuts[w] = c
	}
	cuts[workers] = len(entries)
	parts := make([][]uint64, workers)
	shared := make([][]uint64, workers)
	var wg gosync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			parts[w], shared[w] = m.rangePairs(ctx, entries[cuts[w]:cuts[w+1]])
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, hs := range shared {
		for _, h := range hs {
			m.shared[h] = true
		}
	}
	pairs, err := sortPairs(ctx, parts, len(m.recs))
	if err != nil {
		return nil, err
	}
	if !m.prunes() {
		pairs = slices.Compact(pairs)
		m.blocking = Blocking{Pairs: len(pairs)}
		return pairs, ctx.Err()
	}
	return m.prune(ctx, pairs)
}

// pairsPerBucket is about how many pairs sortPairs puts in a bucket.
const pairsPerBucket = 16

// sortPairs returns the pairs of parts, a CPU's each, in one sorted slice,
// duplicates kept (prune counts them). Their records are below recs. Each
// part is spread into buckets by the top bits of its pairs, the buckets of
// pairs with idFlag after all others, and the buckets, a few pairs each,
// are sorted on all CPUs.
func sortPairs(ctx context.Context, parts [][]uint64, recs int) ([]uint64, error) {
	// Without idFlag, a pair is below recs<<32: its top k bits pick one of
	// 1<<k buckets, and idFlag the upper half of 2<<k.
	k := min(bits.Len(uint(lenAll(parts)/pairsPerBucket)), 22)
	shift := max(bits.Len64(uint64(recs)<<32)-k, 0)
	return sortSpread(ctx, parts, 2<<k, func(p uint64) int {
		return int(p>>63)<<k | int((p&^idFlag)>>shift)
	}, slices.Sort)
}

// prunes reports whether candidates prunes pairs over the partner budget:
// the rule cascade never did.
func (m *matcher) prunes() bool { return m.fs && m.budget >= 0 }

// idFlag marks a pair found by a key of an identifier (see idKey) while
// the pairs are sorted: those pairs sort after all others.
const idFlag = 1 << 63

// idKey reports whether keys of kind are identifiers (an email, a phone,
// an address, a birthday, an organisation): their blocks are small by
// nature and their pairs are outside the partner budget.
func idKey(kind uint8) bool {
	switch kind {
	case keyEmail, keyPhone, keyAddr, keyEmailOCR, keyOrg, keyBirthday, keyPostcode, keySubscribe:
		return true
	}
	return false
}

// prune returns the pairs of ps (sorted, each once a block that found it,
// idFlag on those of identifier blocks) once each, sorted, less those over
// the partner budget: a record with more than m.budget partners found by
// names, sounds and places keeps the m.budget strongest (sharing the most
// blocks, then nearest in name order), and a pair stays if either of its
// records keeps it. Pairs that share an identifier always stay. This is
// cardinality node pruning in the meta-blocking of Papadakis et al., with
// the common-blocks weight: the work stays linear however many namesakes a
// book holds.
func (m *matcher) prune(ctx context.Context, ps []uint64) ([]uint64, error) {
	split, _ := slices.BinarySearch(ps, idFlag)
	named, ids := ps[:split], ps[split:]
	// Merge the two sorted runs, once each, with each pair's weight: the
	// blocks that found it, or idWeight.
	const idWeight = 0xffff
	merge := func(emit func(p uint64, w int)) {
		i, j := 0, 0
		for i < len(named) || j < len(ids) {
			var p uint64
			switch {
			case j == len(ids) || i < len(named) && named[i] < ids[j]&^idFlag:
				p = named[i]
			default:
				p = ids[j] &^ idFlag
			}
			w := 0
			for ; i < len(named) && named[i] == p; i++ {
				w++
			}
			for ; j < len(ids) && ids[j]&^idFlag == p; j++ {
				w = idWeight
			}
			emit(p, min(w, idWeight))
		}
	}
	n := 0
	merge(func(uint64, int) { n++ })
	weights := make([]uint16, 0, n)
	ps = make([]uint64, 0, n)
	merge(func(p uint64, w int) {
		ps = append(ps, p)
		weights = append(weights, uint16(w))
	})
	m.blocking = Blocking{Pairs: len(ps), Budget: m.budget}
	deg := make([]int32, len(m.recs))
	for k, p := range ps {
		if weights[k] != idWeight {
			a, b := unpair(p)
			deg[a]++
			deg[b]++
		}
	}
	// The adjacency of the records over budget, by pair index.
	at := make([]int32, len(m.recs)+1)
	var heavy []int32
	for r, d := range deg {
		at[r+1] = at[r]
		if int(d) > m.budget {
			heavy = append(heavy, int32(r))
			at[r+1] += d
		}
	}
	if len(heavy) == 0 {
		return ps, ctx.Err()
	}
	// Each entry of a record's adjacency orders its partners: the most
	// blocks shared first, then the nearest in name order, then the pair.
	adj := make([]uint64, at[len(m.recs)])
	fill := slices.Clone(at[:len(m.recs)])
	for k, p := range ps {
		if weights[k] == idWeight {
			continue
		}
		a, b := unpair(p)
		d := m.pos[a] - m.pos[b]
		key := uint64(idWeight-weights[k])<<48 | uint64(min(max(d, -d), 0xffff))<<32 | uint64(k)
		if at[a+1] > at[a] {
			adj[fill[a]] = key
			fill[a]++
		}
		if at[b+1] > at[b] {
			adj[fill[b]] = key
			fill[b]++
		}
	}
	// keepLo[k]: the smaller record of pair k keeps it; keepHi: the
	// larger. Two slices, so that the two records never write one byte.
	keepLo, keepHi := make([]bool, len(ps)), make([]bool, len(ps))
	if err := parallel(ctx, len(heavy), func(h int) {
		r := heavy[h]
		mine := adj[at[r]:at[r+1]]
		slices.Sort(mine)
		for _, key := range mine[:m.budget] {
			k := uint32(key)
			if a, _ := unpair(ps[k]); a == r {
				keepLo[k] = true
			} else {
				keepHi[k] = true
			}
		}
	}); err != nil {
		return nil, err
	}
	out := 0
	for k, p := range ps {
		a, b := unpair(p)
		if weights[k] == idWeight || keepLo[k] || keepHi[k] || at[a+1] == at[a] || at[b+1] == at[b] {
			ps[out] = p
			out++
		}
	}
	m.blocking.Dropped = len(ps) - out
	m.blocking.Pairs = out
	return ps[:out], ctx.Err()
}

// rangePairs returns the pairs of the blocks in entries (whole blocks,
// sorted) and, for the rule cascade, the identifier blocks that are shared.
func (m *matcher) rangePairs(ctx context.Context, entries []keyEntry) (pairs, shared []uint64) {
	pairs = make([]uint64, 0, len(entries))
	var members, targets, probes []int32
	for lo, blocks := 0, 0; lo < len(entries); blocks++ {
		hi := lo + 1
		for hi < len(entries) && entries[hi].h == entries[lo].h {
			hi++
		}
		if hi-lo < 2 {
			lo = hi
			continue
		}
		if k := entries[lo].kind; k == keySlipGiven || k == keySlipFamily {
			pairs = m.slipPairs(pairs, entries[lo:hi])
			lo = hi
			continue
		}
		members, targets, probes = members[:0], targets[:0], probes[:0]
		for _, e := range entries[lo:hi] {
			switch e.role {
			case roleTarget:
				targets = append(targets, e.i)
			case roleProbe:
				probes = append(probes, e.i)
			default:
				members = append(members, e.i)
			}
		}
		switch entries[lo].kind {
		case keyEmail, keyPhone, keyAddr:
			if !m.fs && m.isShared(entries[lo], members) {
				shared = append(shared, entries[lo].h)
			}
		}
		start := len(pairs)
		pairs = m.blockPairs(pairs, entries[lo].kind, members, targets, probes)
		if m.prunes() && idKey(entries[lo].kind) {
			for k := start; k < len(pairs); k++ {
				pairs[k] |= idFlag
			}
		}
		lo = hi
		if blocks%4096 == 0 && ctx.Err() != nil {
			return nil, nil
		}
	}
	return pairs, shared
}

// sortedKeys returns every record's blocking keys sorted by hash, then
// record (a record's keys of one hash in the order keys made them).
// Chunks of records are keyed on all CPUs; then each CPU spreads its
// entries into buckets by the top bits of their hash, a bucket holding
// the entries of earlier chunks first, and the buckets, a few entries
// each, are sorted on all CPUs.
func (m *matcher) sortedKeys(ctx context.Context) ([]keyEntry, error) {
	workers := runtime.GOMAXPROCS(0)
	if len(m.recs) < 4096 {
		workers = 1
	}
	runs := make([][]keyEntry, workers)
	chunk := (len(m.recs) + workers - 1) / workers
	var wg gosync.WaitGroup
	for w := range workers {
		lo, hi := min(w*chunk, len(m.recs)), min((w+1)*chunk, len(m.recs))
		wg.Go(func() {
			run := make([]keyEntry, 0, (hi-lo)*entriesPerRecord)
			for i := lo; i < hi; i++ {
				if (i-lo)%4096 == 0 && ctx.Err() != nil {
					return
				}
				run = m.keys(i, run)
			}
			runs[w] = run
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// About keysPerBucket entries a bucket: the hashes are spread evenly,
	// but for the blocks, whose entries share one hash.
	shift := 64 - min(bits.Len(uint(lenAll(runs)/keysPerBucket)), 22)
	return sortSpread(ctx, runs, 1<<(64-shift), func(e keyEntry) int { return int(e.h >> shift) }, sortByHash)
}

// keysPerBucket is about how many entries sortedKeys puts in a bucket.
const keysPerBucket = 16

// sortByHash sorts es by hash, stably.
func sortByHash(es []keyEntry) {
	if len(es) <= 4*keysPerBucket {
		for i := 1; i < len(es); i++ {
			e, j := es[i], i
			for ; j > 0 && es[j-1].h > e.h; j-- {
				es[j] = es[j-1]
			}
			es[j] = e
		}
		return
	}
	// A large bucket is mostly one large block.
	byHash := func(x, y keyEntry) int { return cmp.Compare(x.h, y.h) }
	if !slices.IsSortedFunc(es, byHash) {
		slices.SortStableFunc(es, byHash)
	}
}

// radixSort sorts xs by key, stably, in up to eight passes of one byte;
// a pass whose byte is the same for every element is skipped.
func radixSort[T any](xs []T, key func(T) uint64) {
	if len(xs) < 2 {
		return
	}
	var counts [8][256]int
	for _, x := range xs {
		k := key(x)
		for d := range 8 {
			counts[d][byte(k>>(8*d))]++
		}
	}
	src, dst := xs, make([]T, len(xs))
	for d := range 8 {
		c := &counts[d]
		if c[byte(key(src[0])>>(8*d))] == len(src) {
			continue // every element has this byte
		}
		at := 0
		for b := range c {
			c[b], at = at, at+c[b]
		}
		for _, x := range src {
			b := byte(key(x) >> (8 * d))
			dst[c[b]] = x
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xs[0] {
		copy(xs, src)
	}
}

// blockPairs appends the pairs of one block (see keyEntry). A block with
// too many members to compare all pairs is sorted by name and each member
// compared with its window neighbours only; a cross product of members or
// probes with targets that is too large is skipped (an initial shared by
// that many full names says nothing).
func (m *matcher) blockPairs(pairs []uint64, kind uint8, members, targets, probes []int32) []uint64 {
	limit, win := maxBlock, window
	if kind >= keyName {
		// Name blocks grow with the square of the address book's size for
		// common names; keep them tighter than identifier blocks.
		limit, win = maxNameBlock, nameWindow
	}
	add := func(x, y int32) {
		if kind == keySound && m.recs[x].nm.ff.ocr == m.recs[y].nm.ff.ocr {
			return // the same family name: the pair is in a keyName block already
		}
		pairs = append(pairs, pairKey(x, y))
	}
	if len(members) <= limit {
		for a := 0; a < len(members); a++ {
			for b := a + 1; b < len(members); b++ {
				add(members[a], members[b])
			}
		}
	} else {
		slices.SortStableFunc(members, func(x, y int32) int {
			return compareSortKeys(m.recs[x], m.recs[y])
		})
		for a := 0; a < len(members); a++ {
			for b := a + 1; b < len(members) && b <= a+win; b++ {
				add(members[a], members[b])
			}
		}
	}
	cross := func(xs, ys []int32) {
		if len(xs)*len(ys) > maxCross {
			return
		}
		for _, x := range xs {
			for _, y := range ys {
				add(x, y)
			}
		}
	}
	cross(members, targets)
	cross(members, probes)
	cross(probes, targets)
	return pairs
}

// slipRun is the most records of one name a slip block pairs. A common
// name less a letter meets many names, and each pair of names in a slip
// block costs the product of their runs: at nameWindow (8) records a name,
// the 1M-record bench book's slip blocks made 1.47M pairs, at 4 0.79M. The
// records of one name met each other in its name and sound blocks, so a
// few of them stand for the rest (Febrl's and booksim's precision and
// recall are the same either way).
const slipRun = 4

// slipPairs appends the pairs of a slip block. Its entries are the first
// records of their names (see slipIndex); the records of two names that
// differ are paired, at most slipRun of each (those that agree met in
// a name or sound block; two names whose tags agree are taken for one,
// which costs a pair in 65,535). Every two names of a block of at most
// maxNameBlock are paired, else each with the next nameWindow names in
// tag order. It sorts block.
func (m *matcher) slipPairs(pairs []uint64, block []keyEntry) []uint64 {
	same := true
	for _, e := range block[1:] {
		if same = e.tag == block[0].tag; !same {
			break
		}
	}
	if same {
		return pairs
	}
	x := &m.slips[0]
	if block[0].kind == keySlipFamily {
		x = &m.slips[1]
	}
	records := func(e keyEntry) []int32 {
		k := x.run[e.i]
		rs := x.recs[x.at[k]:x.at[k+1]]
		return rs[:min(len(rs), slipRun)]
	}
	slices.SortStableFunc(block, func(x, y keyEntry) int { return int(x.tag) - int(y.tag) })
	win := len(block)
	if len(block) > maxNameBlock {
		win = nameWindow
	}
	next := len(block) // the first entry of the next name
	for a := len(block) - 1; a >= 0; a-- {
		if a+1 < len(block) && block[a+1].tag != block[a].tag {
			next = a + 1
		}
		for b := next; b < len(block) && b < next+win; b++ {
			for _, x := range records(block[a]) {
				for _, y := range records(block[b]) {
					pairs = append(pairs, pairKey(x, y))
				}
			}
		}
	}
	return pairs
}

// isShared reports whether the identifier block is carried by clearly
// different people, or is a role mailbox.
func (m *matcher) isShared(e keyEntry, block []int32) bool {
	if e.kind == keyEmail {
		for _, pe := range m.recs[block[0]].emails {
			if hashKey(keyEmail, pe.full) == e.h && roleLocal[pe.local] {
				return true
			}
		}
	}
	var reps []int32
	for _, i := range block {
		n := &m.recs[i].nm
		if n.empty() {
			continue
		}
		same := false
		for _, r := range reps {
			if m.recs[r].disp == m.recs[i].disp {
				same = true
				break
			}
			if rl, _ := nameRel(&m.recs[r].nm, n); rl == relConflict {
				return true
			}
		}
		if !same {
			if len(reps) == maxReps {
				return true
			}
			reps = append(reps, i)
		}
	}
	return false
}
