package daemon

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
)

// minShrinkBase is the size below which only an empty snapshot counts as
// a suspicious shrink: small books change by large fractions for real.
const minShrinkBase = 10

// checkShrink refuses a snapshot that makes a source lose more of its
// records than max_shrink allows, or all of them: an auth glitch or a server
// migration must not remove the people from the targets.
func (r *Runner) checkShrink(prev *ksync.State, snap ksync.Snapshot) error {
	if r.AllowShrink {
		return nil
	}
	before := map[string]bool{}
	for k := range prev.Records {
		if k.Source == snap.Source {
			before[k.ID] = true
		}
	}
	if len(before) == 0 {
		return nil
	}
	after := len(snap.Records) + len(snap.Problems)
	if !snap.Full {
		after = len(before)
		for _, id := range snap.Deleted {
			if before[id] {
				after--
			}
		}
		for _, rec := range snap.Records {
			if !before[rec.ID] {
				after++
			}
		}
	}
	limit := float64(len(before)) * (1 - r.cfg.MaxShrink)
	if after == 0 || (len(before) >= minShrinkBase && float64(after) < limit) {
		return fmt.Errorf("shrank from %d to %d records, more than max_shrink (%.0f%%) allows; "+
			"its contacts are kept: if the loss is real, confirm with kith --once --allow-shrink",
			len(before), after, r.cfg.MaxShrink*100)
	}
	return nil
}

// checkTargetShrink refuses a target's listing that lost all the cards
// kith knows there, or more than max_shrink of them: an unmounted folder,
// a wrong path or a server that lists an empty book must not be taken for
// the user deleting every card (tombstones, contacts made there leaving).
// The target is then skipped, as if its listing had failed.
func (r *Runner) checkTargetShrink(prev *ksync.State, t ksync.Target, listing map[string]string) error {
	if r.AllowShrink {
		return nil
	}
	pending := prev.Pending[t.Name()]
	known, kept := 0, 0
	for href, e := range prev.Targets[t.Name()] {
		if e.Deleted {
			continue
		}
		if p := pending[href]; p != nil && p.Kind != ksync.IntentAdopt {
			continue // kith's own delete, left by a stopped sync
		}
		known++
		if _, ok := listing[href]; ok {
			kept++
		}
	}
	limit := float64(known) * (1 - r.cfg.MaxShrink)
	if known == 0 || (kept > 0 && (known < minShrinkBase || float64(kept) >= limit)) {
		return nil
	}
	where := ""
	if m, ok := t.(interface {
		Missing() bool
		Dir() string
	}); ok && m.Missing() {
		where = fmt.Sprintf(" (its folder %s does not exist: unmounted or moved?)", m.Dir())
	}
	return fmt.Errorf("lists %d of the %d cards kith keeps there%s, a loss of more than max_shrink (%.0f%%); "+
		"the target is skipped and nothing is taken for deleted: if you deleted them, confirm with kith --once --allow-shrink",
		kept, known, where, r.cfg.MaxShrink*100)
}

// Categories a user sets on a merged card, in any CardDAV app, to correct
// the matching.
const (
	// CategorySplit splits the card into its records: they are kept apart.
	CategorySplit = "kith-split"
	// CategorySame joins every card that carries it into one person.
	CategorySame = "kith-same"
)

// cardCommand is a correction a user asked for on a card.
type cardCommand struct {
	uid  string
	kind string // CategorySplit or CategorySame
}

// takeCommands returns c without the command categories, and the commands it carried.
func takeCommands(c vcard.Card) (vcard.Card, []string) {
	var found []string
	var keep []*vcard.Field
	changed := false
	for _, f := range c[vcard.FieldCategories] {
		items := card.List(f.Value)
		rest := slices.DeleteFunc(slices.Clone(items), func(it string) bool {
			for _, cmd := range []string{CategorySplit, CategorySame} {
				if strings.EqualFold(it, cmd) {
					if !slices.Contains(found, cmd) {
						found = append(found, cmd)
					}
					return true
				}
			}
			return false
		})
		if len(rest) == len(items) {
			keep = append(keep, f)
			continue
		}
		changed = true
		if len(rest) > 0 {
			keep = append(keep, &vcard.Field{Value: card.JoinList(rest), Params: f.Params, Group: f.Group})
		}
	}
	if !changed {
		return c, nil
	}
	out := make(vcard.Card, len(c))
	for k, v := range c {
		out[k] = v
	}
	if len(keep) == 0 {
		delete(out, vcard.FieldCategories)
	} else {
		out[vcard.FieldCategories] = keep
	}
	return out, found
}

// applyCommands records the decisions the card commands ask for.
func (r *Runner) applyCommands(ctx context.Context, st *state.Store, s *ksync.State, cmds []cardCommand) error {
	var same []string
	for _, c := range cmds {
		switch c.kind {
		case CategorySplit:
			if ct := s.Contacts[c.uid]; ct != nil && len(ct.Members) > 1 {
				if _, err := split(ctx, st, s, c.uid, nil, io.Discard); err != nil {
					return fmt.Errorf("card %s: %s: %w", c.uid, CategorySplit, err)
				}
				r.log.Info("card asked to split; done", "uid", c.uid, "members", len(ct.Members))
			}
		case CategorySame:
			if !slices.Contains(same, c.uid) {
				same = append(same, c.uid)
			}
		}
	}
	slices.Sort(same)
	for _, uid := range same[min(1, len(same)):] {
		if _, err := join(ctx, st, s, same[0], uid, io.Discard); err != nil {
			return fmt.Errorf("card %s: %s: %w", uid, CategorySame, err)
		}
		r.log.Info("cards asked to be one person; joined", "uid", same[0], "with", uid)
	}
	return nil
}

// dryTarget passes reads through to a target and prints the writes a sync
// would make instead of making them.
type dryTarget struct {
	ksync.Target
	w io.Writer
}

func (d *dryTarget) Put(_ context.Context, href string, c vcard.Card, etag string) (string, error) {
	verb := "update"
	if etag == "" {
		verb = "create"
	}
	fmt.Fprintf(d.w, "would %s %s/%s (%s)\n", verb, d.Name(), href, ksync.DisplayName(c))
	return etag, nil
}

func (d *dryTarget) Delete(_ context.Context, href, _ string) error {
	fmt.Fprintf(d.w, "would delete %s/%s\n", d.Name(), href)
	return nil
}
