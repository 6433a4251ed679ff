package assess

import (
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/decay"
	"kith/sync/interactions"
	"kith/sync/normalize"
)

// Properties kith sets on every merged card.
const (
	PropLast     = "X-KITH-LAST-INTERACTION"
	PropLastKind = "X-KITH-LAST-INTERACTION-KIND"
	PropState    = "X-KITH-STATE"
	// StatePrefix starts the CATEGORIES value that carries the state when
	// Options.StateCategories is set: kith-fading, kith-cold, …
	StatePrefix = "kith-"
)

// Options configure an Assessor.
type Options struct {
	// Decay are the decay model's parameters.
	Decay decay.Params
	// Notes says how dated note lines are read.
	Notes interactions.Options
	// StateCategories adds the state as a CATEGORIES value (kith-fading).
	StateCategories bool
	// Normalizer matches interactions' Who to contacts' emails and phones.
	Normalizer *normalize.Normalizer
}

// Assessor judges the contacts of one sync at one moment.
type Assessor struct {
	opts    Options
	now     time.Time
	created map[string]time.Time
	other   map[string][]ksync.Interaction // by UID: scans, calendars, mail
}

// New prepares the assessment of contacts at now. records are the sync's
// records (scanned ones give a card-exchange interaction on their scan
// date); external are interactions from calendars and mail, matched to
// contacts by the emails and phones in Who; created gives each contact's
// creation time.
func New(opts Options, now time.Time, contacts []*ksync.Contact, records map[ksync.RecordKey]*ksync.StoredRecord,
	created func(uid string) time.Time, external []ksync.Interaction) *Assessor {
	a := &Assessor{opts: opts, now: now, created: map[string]time.Time{}, other: map[string][]ksync.Interaction{}}
	who := map[string][]string{} // normalised email or phone → UIDs
	for _, c := range contacts {
		a.created[c.UID] = created(c.UID)
		for _, k := range a.addresses(c.Card) {
			if !slices.Contains(who[k], c.UID) {
				who[k] = append(who[k], c.UID)
			}
		}
		for _, m := range c.Members {
			r := records[m]
			if r == nil || !r.Scanned {
				continue
			}
			day := r.Seen
			if day.IsZero() {
				day = r.FirstSeen
			}
			if day.IsZero() {
				continue
			}
			y, mo, d := day.Date()
			a.other[c.UID] = append(a.other[c.UID], ksync.Interaction{
				Date: time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), Kind: ksync.KindCard, Source: m.Source, Ref: m.ID, People: 1,
			})
		}
	}
	for _, in := range external {
		var uids []string
		for _, w := range in.Who {
			for _, uid := range who[w] {
				if !slices.Contains(uids, uid) {
					uids = append(uids, uid)
				}
			}
		}
		// An address shared by several contacts (a switchboard, info@) says
		// nothing about which of them took part.
		if len(uids) == 1 {
			a.other[uids[0]] = append(a.other[uids[0]], in)
		}
	}
	return a
}

// addresses returns the normalised emails and phones of c.
func (a *Assessor) addresses(c vcard.Card) []string {
	var out []string
	if a.opts.Normalizer == nil {
		return nil
	}
	for _, f := range c[vcard.FieldEmail] {
		if e := a.opts.Normalizer.Email(card.Text(f.Value)); e != "" {
			out = append(out, e)
		}
	}
	for _, f := range c[vcard.FieldTelephone] {
		if p, ok := a.opts.Normalizer.Phone(card.Text(f.Value)); ok {
			out = append(out, p)
		}
	}
	return out
}

// Interactions returns every interaction known for uid: the dated lines in
// the NOTEs of cards (the golden card and the cards as the user's address
// books hold them; a line counts once however many cards carry it) and the
// scans, events and mail gathered by New.
func (a *Assessor) Interactions(uid string, cards ...vcard.Card) []ksync.Interaction {
	out := slices.Clone(a.other[uid])
	seen := map[string]bool{}
	for _, c := range cards {
		var notes []string
		for _, f := range c[vcard.FieldNote] {
			notes = append(notes, card.Text(f.Value))
		}
		found, _ := interactions.ParseNote(strings.Join(notes, "\n"), a.now, a.opts.Notes)
		for _, in := range found {
			// The same line in several cards has the same date and the same
			// ordinal among that date's lines: one interaction.
			if !seen[in.Ref] {
				seen[in.Ref] = true
				out = append(out, in)
			}
		}
	}
	slices.SortFunc(out, func(x, y ksync.Interaction) int {
		if c := x.Date.Compare(y.Date); c != 0 {
			return c
		}
		return strings.Compare(x.Source+x.Ref, y.Source+y.Ref)
	})
	return out
}

// Assess judges the relationship with uid from the given cards' notes and
// everything else known.
func (a *Assessor) Assess(uid, name string, cards ...vcard.Card) decay.Assessment {
	var cats []string
	seen := map[string]bool{} // folded: a card with 100k categories must not cost 10^10 steps
	for _, c := range cards {
		for _, f := range c[vcard.FieldCategories] {
			for _, it := range card.List(f.Value) {
				if k := strings.ToLower(strings.ToUpper(it)); !seen[k] {
					seen[k] = true
					cats = append(cats, it)
				}
			}
		}
	}
	return decay.Assess(decay.Input{
		UID: uid, Name: name, Interactions: a.Interactions(uid, cards...), Categories: cats, FirstSeen: a.created[uid],
	}, a.now, a.opts.Decay)
}

// Annotate returns c with kith's properties set for uid: the last
// interaction, its kind and the state, judged from c itself (its notes
// include the user's) and everything else known. It is a ksync.Annotator.
func (a *Assessor) Annotate(uid string, c vcard.Card) vcard.Card {
	as := a.Assess(uid, ksync.DisplayName(c), c)
	out := make(vcard.Card, len(c)+3)
	for k, v := range c {
		out[k] = v
	}
	delete(out, PropLast)
	delete(out, PropLastKind)
	delete(out, PropState)
	if as.Last != nil {
		out.SetValue(PropLast, as.Last.Date.Format(time.DateOnly))
		out.SetValue(PropLastKind, as.Last.Kind)
	}
	out.SetValue(PropState, string(as.State))
	if a.opts.StateCategories {
		setStateCategory(out, as.State)
	}
	return out
}

// setStateCategory replaces any kith-<state> value in CATEGORIES with the
// current state's (none for "none").
func setStateCategory(c vcard.Card, st decay.State) {
	states := map[string]bool{}
	for _, s := range decay.States() {
		states[StatePrefix+string(s)] = true
	}
	var items []string
	var params vcard.Params
	for _, f := range c[vcard.FieldCategories] {
		params = f.Params
		for _, it := range card.List(f.Value) {
			if !states[strings.ToLower(it)] {
				items = append(items, it)
			}
		}
	}
	if st != decay.StateNone {
		items = append(items, StatePrefix+string(st))
	}
	if len(items) == 0 {
		delete(c, vcard.FieldCategories)
		return
	}
	c[vcard.FieldCategories] = []*vcard.Field{{Value: card.JoinList(items), Params: params}}
}

// AddMatched adds interactions already tied to uid (kept from an earlier
// sync when their calendar or mailbox cannot be read now).
func (a *Assessor) AddMatched(uid string, ins ...ksync.Interaction) {
	a.other[uid] = append(a.other[uid], ins...)
}
