package sync

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
	"kith/sync/match"
	"kith/sync/merge"
	"kith/sync/normalize"
)

// Engine merges source records into contacts. It is safe for concurrent use.
type Engine struct {
	norm   *normalize.Normalizer
	merger *merge.Merger
}

// NewEngine returns an Engine that reads phone numbers without a country
// code as numbers of defaultRegion.
func NewEngine(defaultRegion string) (*Engine, error) {
	n, err := normalize.New(defaultRegion)
	if err != nil {
		return nil, err
	}
	return &Engine{norm: n, merger: merge.New(n)}, nil
}

// Input is everything one merge works from.
type Input struct {
	// Prev is the state after the last run (NewState on a first run).
	Prev *State
	// Snapshots are the reads that succeeded this run.
	Snapshots []Snapshot
	// Failed names the sources whose read failed: their records stay as they were.
	Failed []string
	// Priority lists source names, most trusted first; it orders a contact's
	// members and so breaks ties in merging.
	Priority []string
	// Constraints are the user's split and join decisions.
	Constraints []match.Constraint
	// Now is the time of the run.
	Now time.Time
	// Fingerprint names everything besides the records that the merge
	// depends on (source priority, decisions, region, kith's version). When
	// it equals the last merge's and no record changed, the last merge's
	// contacts are reused as they are.
	Fingerprint string
}

// Outcome is the result of a merge.
type Outcome struct {
	// State is the new state: records and contacts replaced, targets and
	// cursors carried over (cursors updated from the snapshots).
	State *State
	// Contacts are the merged contacts, sorted by UID.
	Contacts []*Contact
	// Problems are the items the sources could not read.
	Problems []Problem
	// Stale counts records kept from the last run because their item could
	// not be read now or their source failed.
	Stale int
	// Possible are doubtful pairs of contacts, for the user to decide.
	Possible []PossibleDuplicate
	// Left are the UIDs of last run's contacts that left every source
	// (neither kept nor joined into another), sorted.
	Left []string
}

// PossibleDuplicate is a pair of contacts that might be one person.
type PossibleDuplicate struct {
	A, B   string // contact UIDs
	Score  float64
	Reason string
}

// Merge applies the snapshots to the previous records, clusters the records
// into people, keeps every contact's UID stable and builds the golden cards.
func (e *Engine) Merge(ctx context.Context, in Input) (*Outcome, error) {
	prev := in.Prev
	if prev == nil {
		prev = NewState()
	}
	next := NewState()
	next.Targets = prev.Targets
	for k, v := range prev.Cursors {
		next.Cursors[k] = v
	}
	for week, counts := range prev.History {
		next.History[week] = counts
	}
	for uid, l := range prev.Left {
		next.Left[uid] = l
	}
	out := &Outcome{State: next}

	if in.Fingerprint != "" && prev.Meta[MetaFingerprint] == in.Fingerprint && unchanged(in) && len(prev.Contacts) > 0 {
		return reuse(prev, next, in), nil
	}
	if err := prev.DecodeRecords(); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	e.applySnapshots(prev, next, in, out)

	keys := make([]RecordKey, 0, len(next.Records))
	for k, r := range next.Records {
		if IsGroup(r.Card) {
			r.UID = "" // a group card names people; it is none
			continue
		}
		keys = append(keys, k)
	}
	rank := map[string]int{}
	for i, s := range in.Priority {
		rank[s] = i + 1
	}
	slices.SortFunc(keys, func(a, b RecordKey) int {
		ra, rb := rankOf(rank, a.Source), rankOf(rank, b.Source)
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})

	ev := make([]match.Evidence, len(keys))
	for i, k := range keys {
		r := next.Records[k]
		ev[i] = match.FromCard(k.String(), r.Card, r.Scanned)
	}
	res, err := match.Cluster(ctx, ev, in.Constraints, match.Options{Normalizer: e.norm})
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}

	uids := assignUIDs(prev, keys, res.Groups)
	assigned := make(map[string]bool, len(uids))
	for _, u := range uids {
		assigned[u] = true
	}
	groupOf := make([]int, len(keys))
	for gi, g := range res.Groups {
		uid := uids[gi]
		var absorbed []string
		for _, idx := range g.Members {
			if p := prev.Records[keys[idx]]; p != nil && p.UID != "" && !assigned[p.UID] && !slices.Contains(absorbed, p.UID) {
				absorbed = append(absorbed, p.UID)
			}
		}
		slices.Sort(absorbed)
		members := make([]merge.Member, len(g.Members))
		memberKeys := make([]RecordKey, len(g.Members))
		for j, idx := range g.Members {
			groupOf[idx] = gi
			r := next.Records[keys[idx]]
			r.UID = uid
			members[j] = merge.Member{Card: card.ToV3(r.Card), Scanned: r.Scanned, Seen: r.Seen}
			memberKeys[j] = keys[idx]
		}
		golden := e.merger.Golden(uid, members)
		hash := card.Hash(golden)
		created := in.Now
		if p := prev.Contacts[uid]; p != nil {
			created = p.Created
		}
		slices.SortFunc(memberKeys, compareKeys)
		next.Contacts[uid] = &StoredContact{UID: uid, Card: golden, Hash: hash, Created: created, Members: memberKeys, Reasons: g.Reasons}
		out.Contacts = append(out.Contacts, &Contact{UID: uid, Card: golden, Hash: hash, Members: memberKeys, Reasons: g.Reasons, Absorbed: absorbed})
	}
	slices.SortFunc(out.Contacts, func(a, b *Contact) int { return cmp.Compare(a.UID, b.UID) })
	absorbed := map[string]bool{}
	for _, c := range out.Contacts {
		back(c, next.Left)
		for _, uid := range c.Absorbed {
			absorbed[uid] = true
		}
	}
	for uid := range prev.Contacts {
		if next.Contacts[uid] == nil && !absorbed[uid] {
			out.Left = append(out.Left, uid)
		}
	}
	slices.Sort(out.Left)
	for _, p := range res.Possible {
		a, b := uids[groupOf[p.A]], uids[groupOf[p.B]]
		if a != b {
			out.Possible = append(out.Possible, PossibleDuplicate{A: a, B: b, Score: p.Score, Reason: p.Reason})
		}
	}
	next.Meta[MetaFingerprint] = in.Fingerprint
	if b, err := json.Marshal(out.Possible); err == nil {
		next.Meta[MetaPossible] = string(b)
	}
	return out, nil
}

// Keys of State.Meta the engine keeps.
const (
	// MetaFingerprint is the Input.Fingerprint of the last full merge.
	MetaFingerprint = "merge.fingerprint"
	// MetaPossible holds the last merge's possible duplicates, all of them
	// (JSON; PossibleFromMeta), reused when nothing changed; megabytes on a
	// big book, so the light state leaves it out.
	MetaPossible = "merge.possible"
)

// PossibleFromMeta returns the possible duplicates of the last merge, as
// a State's Meta keeps them.
func PossibleFromMeta(meta map[string]string) ([]PossibleDuplicate, error) {
	var out []PossibleDuplicate
	if s := meta[MetaPossible]; s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("possible duplicates: %w", err)
		}
	}
	return out, nil
}

// unchanged reports whether no snapshot brings a change: every one is
// incremental and empty.
func unchanged(in Input) bool {
	for i := range in.Snapshots {
		if !in.Snapshots[i].Empty() {
			return false
		}
	}
	return true
}

// reuse is Merge when nothing changed: the last merge's records, contacts
// and possible duplicates stand.
func reuse(prev, next *State, in Input) *Outcome {
	out := &Outcome{State: next}
	next.Records = prev.Records
	next.Contacts = prev.Contacts
	for k, v := range prev.Meta {
		next.Meta[k] = v
	}
	for _, s := range in.Snapshots {
		next.Cursors[s.Source] = s.Cursor
	}
	for _, c := range prev.Contacts {
		ct := &Contact{UID: c.UID, Card: c.Card, Hash: c.Hash, Members: c.Members, Reasons: c.Reasons}
		back(ct, next.Left)
		out.Contacts = append(out.Contacts, ct)
	}
	slices.SortFunc(out.Contacts, func(a, b *Contact) int { return cmp.Compare(a.UID, b.UID) })
	_ = json.Unmarshal([]byte(prev.Meta[MetaPossible]), &out.Possible)
	return out
}

// applySnapshots fills next.Records from the snapshots, keeping the last
// good version of anything that could not be read now.
func (e *Engine) applySnapshots(prev, next *State, in Input, out *Outcome) {
	keep := func(k RecordKey) {
		if r, ok := prev.Records[k]; ok {
			c := *r
			next.Records[k] = &c
			out.Stale++
		}
	}
	failed := map[string]bool{}
	for _, s := range in.Failed {
		failed[s] = true
	}
	bySource := map[string][]RecordKey{}
	for k := range prev.Records {
		bySource[k.Source] = append(bySource[k.Source], k)
	}
	for s := range failed {
		for _, k := range bySource[s] {
			keep(k)
		}
	}
	for _, snap := range in.Snapshots {
		if !snap.Full {
			for _, k := range bySource[snap.Source] {
				if r := prev.Records[k]; r != nil {
					c := *r
					next.Records[k] = &c
				}
			}
			for _, id := range snap.Deleted {
				delete(next.Records, RecordKey{snap.Source, id})
			}
		}
		for _, r := range snap.Records {
			k := r.Key()
			sr := &StoredRecord{Record: r, FirstSeen: in.Now}
			if p := prev.Records[k]; p != nil {
				sr.FirstSeen = p.FirstSeen
			}
			next.Records[k] = sr
		}
		for _, p := range snap.Problems {
			out.Problems = append(out.Problems, p)
			// A problem with a file keeps its records: "path" and, for a
			// multi-card file, every "path#N"; with a folder, all in it.
			for _, k := range bySource[snap.Source] {
				if k.ID != p.ID && !strings.HasPrefix(k.ID, p.ID+"#") && !strings.HasPrefix(k.ID, p.ID+"/") {
					continue
				}
				if _, fresh := next.Records[k]; !fresh {
					keep(k)
				}
			}
		}
		next.Cursors[snap.Source] = snap.Cursor
	}
}

// assignUIDs gives every group a UID. A group keeps the UID most of its
// records had; when a contact splits, the part with most of its records
// keeps the UID and the others get new ones; when contacts join, the UID
// with most records (then the older contact, then the one the most trusted
// record held) survives.
func assignUIDs(prev *State, keys []RecordKey, groups []match.Group) []string {
	type cand struct {
		group int
		uid   string
		votes int
		first int // the most trusted record holding uid (keys are in priority order)
	}
	var cands []cand
	for gi, g := range groups {
		votes := map[string]int{}
		first := map[string]int{}
		for _, idx := range g.Members {
			if r := prev.Records[keys[idx]]; r != nil && r.UID != "" {
				if _, ok := votes[r.UID]; !ok {
					first[r.UID] = idx
				}
				votes[r.UID]++
			}
		}
		for uid, n := range votes {
			cands = append(cands, cand{gi, uid, n, first[uid]})
		}
	}
	created := func(uid string) time.Time {
		if c := prev.Contacts[uid]; c != nil {
			return c.Created
		}
		return time.Time{}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(b.votes, a.votes), created(a.uid).Compare(created(b.uid)),
			cmp.Compare(a.first, b.first), cmp.Compare(a.uid, b.uid), cmp.Compare(a.group, b.group))
	})
	uids := make([]string, len(groups))
	taken := map[string]bool{}
	for _, c := range cands {
		if uids[c.group] == "" && !taken[c.uid] {
			uids[c.group] = c.uid
			taken[c.uid] = true
		}
	}
	for gi, g := range groups {
		if uids[gi] != "" {
			continue
		}
		uid := newUID(keys[g.Members[0]])
		for n := 2; taken[uid] || prev.Contacts[uid] != nil; n++ {
			uid = fmt.Sprintf("%s-%d", newUID(keys[g.Members[0]]), n)
		}
		uids[gi] = uid
		taken[uid] = true
	}
	return uids
}

// UIDPrefix starts every UID kith makes, and so the href of every card it
// writes: a card on a target whose name starts with it is kith's.
const UIDPrefix = "kith-"

// newUID derives a UID from the record that founds a contact, so that the
// same data gives the same UIDs on a fresh state.
func newUID(k RecordKey) string {
	sum := sha256.Sum256([]byte(k.Source + "\x00" + k.ID))
	return UIDPrefix + hex.EncodeToString(sum[:10])
}

func rankOf(rank map[string]int, source string) int {
	if r, ok := rank[source]; ok {
		return r
	}
	return len(rank) + 1
}

func compareKeys(a, b RecordKey) int {
	return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
}

// GoldenOf returns the golden card of uid in s and its hash, or nil and "".
func (s *State) GoldenOf(uid string) (vcard.Card, string) {
	if c := s.Contacts[uid]; c != nil {
		return c.Card, c.Hash
	}
	return nil, ""
}

// Leave makes the record of a contact that left every source: its last
// golden card (nil when unknown) with what the user wrote on its cards
// (folded in from every target), kith's own properties taken off. prev, when
// set, is what an earlier removal kept of it already.
func (e *Engine) Leave(uid string, golden vcard.Card, cards []LeftCard, prev *LeftContact, now time.Time) *LeftContact {
	l := &LeftContact{UID: uid, Card: golden, Left: now, Base: golden}
	if prev != nil {
		l.Card, l.Left, l.Edited, l.Base = prev.Card, prev.Left, prev.Edited, prev.Base
	}
	if l.Card == nil {
		l.Card = vcard.Card{}
	}
	for _, lc := range cards {
		base := lc.Base
		if base == nil {
			base = vcard.Card{}
		}
		folded := e.merger.Rebase(base, l.Card, lc.Card)
		if card.Hash(stripKith(folded)) != card.Hash(stripKith(l.Card)) {
			l.Edited = true
		}
		l.Card = folded
	}
	l.Card = stripKith(l.Card)
	l.Card.SetValue(vcard.FieldUID, uid)
	return l
}

// back handles a contact that is there while left holds it: it came back
// through its sources. What the user wrote on its cards is handed to the
// targets (Contact.Returning) and stays in left until SettleReturns finds
// it on every target; with nothing written, the row goes at once. (kith
// restore drops the row itself: the words are its record's.)
func back(c *Contact, left map[string]*LeftContact) {
	if l := left[c.UID]; l != nil {
		if l.Edited {
			c.Returning = l
		} else {
			delete(left, c.UID)
		}
	}
}

// SettleReturns drops from left the contacts that came back (Returning)
// once every target in targets holds an entry for them: their cards there
// carry the user's words (or the user deleted them), and the state saved
// with those entries keeps them from now on.
func SettleReturns(contacts []*Contact, targets map[string]map[string]*TargetEntry, left map[string]*LeftContact) {
	var returning []*Contact
	for _, c := range contacts {
		if c.Returning != nil {
			returning = append(returning, c)
		}
	}
	if len(returning) == 0 {
		return
	}
	held := map[string]int{} // UID → how many targets hold an entry for it
	for _, entries := range targets {
		seen := map[string]bool{}
		for _, e := range entries {
			if e.UID != "" && !seen[e.UID] {
				seen[e.UID] = true
				held[e.UID]++
			}
		}
	}
	for _, c := range returning {
		if held[c.UID] == len(targets) {
			delete(left, c.UID)
		}
	}
}

// stripKith returns a copy of c without kith's own X-KITH-* properties.
func stripKith(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for name, fs := range c {
		if !strings.HasPrefix(name, "X-KITH-") {
			out[name] = fs
		}
	}
	return out
}

// Normalizer returns the normaliser the engine compares values with.
func (e *Engine) Normalizer() *normalize.Normalizer { return e.norm }
