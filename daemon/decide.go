package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/decay"
	"kith/sync/normalize"
)

// ErrNotFound is returned when a name or UID matches no contact, or
// several where one is needed.
var ErrNotFound = errors.New("no such contact")

// findContacts returns the contacts whose UID is query or whose name
// contains it (accents and case folded).
func findContacts(s *ksync.State, query string) []*ksync.StoredContact {
	if c := s.Contacts[query]; c != nil {
		return []*ksync.StoredContact{c}
	}
	q := normalize.Fold(query)
	var out []*ksync.StoredContact
	for _, c := range s.Contacts {
		name := normalize.Fold(ksync.DisplayName(c.Card))
		if name == q {
			return []*ksync.StoredContact{c}
		}
		if strings.Contains(name, q) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *ksync.StoredContact) int {
		return strings.Compare(ksync.DisplayName(a.Card), ksync.DisplayName(b.Card))
	})
	return out
}

// oneContact resolves query to exactly one contact.
func oneContact(s *ksync.State, query string) (*ksync.StoredContact, error) {
	cs := findContacts(s, query)
	switch len(cs) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, query)
	case 1:
		return cs[0], nil
	}
	var names []string
	for _, c := range cs {
		names = append(names, fmt.Sprintf("%s (%s)", ksync.DisplayName(c.Card), c.UID))
	}
	return nil, fmt.Errorf("%w: %q matches %d contacts: %s; use the UID", ErrNotFound, query, len(cs), strings.Join(names, ", "))
}

// Explain writes, for every contact matching query (a UID or part of a
// name), its members, where each came from, and why they were joined.
func Explain(ctx context.Context, st *state.Store, query string, w io.Writer) error {
	s, err := st.Load(ctx)
	if err == nil {
		err = s.DecodeRecords()
	}
	if err != nil {
		return err
	}
	cs := findContacts(s, query)
	if len(cs) == 0 {
		return fmt.Errorf("%w: %q", ErrNotFound, query)
	}
	decisions, err := st.Decisions(ctx)
	if err != nil {
		return err
	}
	for i, c := range cs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  (%s)\n", ksync.DisplayName(c.Card), c.UID)
		fmt.Fprintf(w, "  %d member(s):\n", len(c.Members))
		for _, m := range c.Members {
			fmt.Fprintf(w, "    %-40s %s\n", m.String(), describe(s.Records[m]))
		}
		if len(c.Reasons) > 0 {
			fmt.Fprintln(w, "  joined because:")
			for _, r := range c.Reasons {
				writeReason(w, r)
			}
		} else if len(c.Members) == 1 {
			fmt.Fprintln(w, "  a single record: nothing was joined")
		}
		fmt.Fprintf(w, "  last interaction: %s\n", lastVia(s.Interactions[c.UID], time.Now()))
		for _, d := range decisions {
			if slices.ContainsFunc(c.Members, func(k ksync.RecordKey) bool { return k.String() == d.A || k.String() == d.B }) {
				verb := "keep apart"
				if d.Together {
					verb = "join"
				}
				fmt.Fprintf(w, "  your decision %d (%s): %s %s and %s\n", d.Batch, d.Made.Format("2006-01-02"), verb, d.A, d.B)
			}
		}
	}
	return nil
}

// lastVia says what the latest of ins was, when, and which source gave
// it, as the report does: "call, yesterday (phone)".
func lastVia(ins []ksync.Interaction, now time.Time) string {
	var last *ksync.Interaction
	for i, in := range ins {
		if last == nil || in.Date.After(last.Date) {
			last = &ins[i]
		}
	}
	if last == nil {
		return "none known"
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return decay.Via(*last, int(today.Sub(last.Date).Hours()/24))
}

// writeReason writes one join's reason: its head ("a + b: score +21.7
// (join at +5.0)"), then the arithmetic, one field a line with its weight
// in bits, for and against, as match words it ("; email same (…) +18.1").
func writeReason(w io.Writer, r string) {
	parts := strings.Split(r, "; ")
	fmt.Fprintf(w, "    - %s\n", parts[0])
	for _, p := range parts[1:] {
		i := strings.LastIndexByte(p, ' ')
		if i > 0 && (p[i+1] == '+' || p[i+1] == '-') {
			if v, err := strconv.ParseFloat(p[i+1:], 64); err == nil {
				fmt.Fprintf(w, "        %+6.1f  %s\n", v, p[:i])
				continue
			}
		}
		fmt.Fprintf(w, "                %s\n", p)
	}
}

// describe summarises a record in one line: name, emails, phones.
func describe(r *ksync.StoredRecord) string {
	if r == nil {
		return ""
	}
	parts := []string{ksync.DisplayName(r.Card)}
	for _, k := range []string{vcard.FieldEmail, vcard.FieldTelephone, vcard.FieldOrganization} {
		for _, f := range r.Card[k] {
			parts = append(parts, strings.TrimSpace(strings.ReplaceAll(card.Text(f.Value), ";", " ")))
		}
	}
	if r.Scanned {
		parts = append(parts, "(scanned)")
	}
	return strings.Join(parts, "  ")
}

// Split records the decision that the contact uid is not one person: the
// given members (record keys "source:id") are split off from the others,
// or, with no members given, every member stands alone. It returns the
// decision's number for undo.
func Split(ctx context.Context, st *state.Store, uid string, members []string, w io.Writer) (int64, error) {
	s, err := st.Load(ctx)
	if err != nil {
		return 0, err
	}
	return split(ctx, st, s, uid, members, w)
}

// split is Split on the contacts of s.
func split(ctx context.Context, st *state.Store, s *ksync.State, uid string, members []string, w io.Writer) (int64, error) {
	c, err := oneContact(s, uid)
	if err != nil {
		return 0, err
	}
	if len(c.Members) < 2 {
		return 0, fmt.Errorf("contact %s has one member: nothing to split", c.UID)
	}
	all := make([]string, len(c.Members))
	for i, m := range c.Members {
		all[i] = m.String()
	}
	for _, m := range members {
		if !slices.Contains(all, m) {
			return 0, fmt.Errorf("%q is not a member of %s (members: %s)", m, c.UID, strings.Join(all, ", "))
		}
	}
	var ds []state.Decision
	if len(members) == 0 {
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				ds = append(ds, state.Decision{A: all[i], B: all[j]})
			}
		}
	} else {
		for _, m := range members {
			for _, o := range all {
				if !slices.Contains(members, o) {
					ds = append(ds, state.Decision{A: m, B: o})
				}
			}
		}
	}
	batch, err := st.AddDecisions(ctx, ds)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "decision %d: %s (%s) split; undo with: kith undo %d\n", batch, ksync.DisplayName(c.Card), c.UID, batch)
	return batch, nil
}

// Join records the decision that contacts a and b (UIDs or names) are one
// person. It returns the decision's number for undo.
func Join(ctx context.Context, st *state.Store, a, b string, w io.Writer) (int64, error) {
	s, err := st.Load(ctx)
	if err != nil {
		return 0, err
	}
	return join(ctx, st, s, a, b, w)
}

// join is Join on the contacts of s.
func join(ctx context.Context, st *state.Store, s *ksync.State, a, b string, w io.Writer) (int64, error) {
	ca, err := oneContact(s, a)
	if err != nil {
		return 0, err
	}
	cb, err := oneContact(s, b)
	if err != nil {
		return 0, err
	}
	if ca.UID == cb.UID {
		return 0, fmt.Errorf("%q and %q are the same contact (%s) already", a, b, ca.UID)
	}
	batch, err := st.AddDecisions(ctx, []state.Decision{{Together: true, A: ca.Members[0].String(), B: cb.Members[0].String()}})
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "decision %d: %s (%s) and %s (%s) joined; undo with: kith undo %d\n", batch,
		ksync.DisplayName(ca.Card), ca.UID, ksync.DisplayName(cb.Card), cb.UID, batch)
	return batch, nil
}

// Undo takes back decision batch, or the newest when batch is 0.
func Undo(ctx context.Context, st *state.Store, batch int64, w io.Writer) error {
	ds, err := st.Undo(ctx, batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "decision %d undone (%d pair(s))\n", ds[0].Batch, len(ds))
	return nil
}

// Restore brings back a contact whose card the user deleted on a target,
// or one that left every source (with what the user wrote on its cards):
// the next sync writes it again.
func Restore(ctx context.Context, st *state.Store, query string, w io.Writer) error {
	s, err := st.Load(ctx)
	if err != nil {
		return err
	}
	c, err := oneContact(s, query)
	if err == nil {
		n, rerr := st.Restore(ctx, c.UID)
		if rerr != nil {
			return rerr
		}
		if n > 0 {
			fmt.Fprintf(w, "%s (%s) comes back on %d target(s) at the next sync\n", ksync.DisplayName(c.Card), c.UID, n)
			return nil
		}
		if s.Left[c.UID] != nil {
			// Back in its sources, its left row kept until every target
			// holds the user's words: a restored record would pin it.
			return fmt.Errorf("%s (%s) is back in its sources: what you wrote on its cards goes onto them as each target syncs", ksync.DisplayName(c.Card), c.UID)
		}
		err = fmt.Errorf("%s (%s) was not deleted on any target", ksync.DisplayName(c.Card), c.UID)
	}
	l, lerr := oneLeft(s, query)
	if lerr != nil {
		if errors.Is(err, ErrNotFound) {
			return lerr
		}
		return err
	}
	if err := st.RestoreLeft(ctx, l, time.Now()); err != nil {
		return err
	}
	what := ""
	if l.Edited {
		what = ", with what you wrote on its cards,"
	}
	fmt.Fprintf(w, "%s (%s), which left its sources on %s%s comes back at the next sync\n",
		ksync.DisplayName(l.Card), l.UID, l.Left.Format(time.DateOnly), what)
	return nil
}

// oneLeft resolves query (a UID or part of a name) to exactly one contact
// that left its sources.
func oneLeft(s *ksync.State, query string) (*ksync.LeftContact, error) {
	if l := s.Left[query]; l != nil {
		return l, nil
	}
	q := normalize.Fold(query)
	var found []*ksync.LeftContact
	for _, l := range s.Left {
		name := normalize.Fold(ksync.DisplayName(l.Card))
		if name == q {
			return l, nil
		}
		if strings.Contains(name, q) {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, query)
	case 1:
		return found[0], nil
	}
	slices.SortFunc(found, func(a, b *ksync.LeftContact) int { return strings.Compare(a.UID, b.UID) })
	var names []string
	for _, l := range found {
		names = append(names, fmt.Sprintf("%s (%s)", ksync.DisplayName(l.Card), l.UID))
	}
	return nil, fmt.Errorf("%w: %q matches %d contacts that left their sources: %s; use the UID", ErrNotFound, query, len(found), strings.Join(names, ", "))
}
