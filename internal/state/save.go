package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ksync "kith/sync"
	"kith/sync/card"
)

// Save writes next in one transaction, touching only the rows that differ
// from prev (the state Load returned at the start of the run). Either all of
// it is stored or, on any error, nothing is.
//
// Rows are written in key order, many to a statement, each statement
// prepared once: a first run of 100,000 records took 30 s row by row in
// map order, every insert landing on a page the cache had already let go.
func (s *Store) Save(ctx context.Context, prev, next *ksync.State, run Run) (err error) {
	if prev == nil {
		prev = ksync.NewState()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	w := &writer{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
	defer func() {
		w.close()
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("state: saving: %w", err)
		}
	}()
	for _, save := range []func(*writer, *ksync.State, *ksync.State) error{
		saveRecords, saveContacts, saveTargets, saveCursors, saveInteractions, saveHistory, saveMeta, saveLeft, savePending,
	} {
		if err = save(w, prev, next); err != nil {
			return err
		}
	}
	summary, err := json.Marshal(run.Summary)
	if err != nil {
		return err
	}
	if err = w.exec("INSERT INTO runs(started, finished, summary) VALUES (?, ?, ?)",
		run.Started.Unix(), run.Finished.Unix(), string(summary)); err != nil {
		return err
	}
	// Keep the run log bounded: a year of 15-minute runs.
	if err = w.exec("DELETE FROM runs WHERE id <= (SELECT MAX(id) FROM runs) - 35040"); err != nil {
		return err
	}
	if err = w.wait(); err != nil {
		return err
	}
	return tx.Commit()
}

// batchRows is how many rows one INSERT carries. SQLite takes up to 32,766
// parameters a statement; the widest table has 10 columns.
const batchRows = 100

// writer holds one Save's transaction and its prepared statements, each
// prepared once however many rows it writes. An inserter's batch runs in
// the background while the next one is encoded; every other statement
// waits for it first, so statements still run one at a time, in order.
type writer struct {
	ctx     context.Context
	tx      *sql.Tx
	stmts   map[string]*sql.Stmt
	pending chan error // the batch in flight, if any
}

// wait waits for the batch in flight and returns its error.
func (w *writer) wait() error {
	if w.pending == nil {
		return nil
	}
	err := <-w.pending
	w.pending = nil
	return err
}

func (w *writer) exec(query string, args ...any) error {
	if err := w.wait(); err != nil {
		return err
	}
	return w.run(query, args...)
}

func (w *writer) run(query string, args ...any) error {
	st, ok := w.stmts[query]
	if !ok {
		var err error
		if st, err = w.tx.PrepareContext(w.ctx, query); err != nil {
			return err
		}
		w.stmts[query] = st
	}
	_, err := st.ExecContext(w.ctx, args...)
	return err
}

// close waits for the batch in flight and closes the statements.
func (w *writer) close() {
	w.wait()
	for _, st := range w.stmts {
		st.Close()
	}
}

// inserter gathers the rows of one table and writes them batchRows to an
// INSERT OR REPLACE. Rows must come in key order, which keeps SQLite
// appending to the pages it holds instead of seeking all over the table.
type inserter struct {
	w     *writer
	table string // "records(source, id, …)": for the statement and errors
	cols  int
	args  []any
	names []string // each pending row's name, for errors
}

func (w *writer) inserter(table string) *inserter {
	return &inserter{w: w, table: table, cols: strings.Count(table, ",") + 1}
}

// add queues a row named name (an error names the first and last row of
// the batch that failed).
func (in *inserter) add(name string, args ...any) error {
	in.args = append(in.args, args...)
	in.names = append(in.names, name)
	if len(in.names) == batchRows {
		return in.flush()
	}
	return nil
}

// flush sends the queued rows, in the background: the writer's next
// statement waits for them, and its error is theirs.
func (in *inserter) flush() error {
	n := len(in.names)
	if n == 0 {
		return nil
	}
	tuple := "(" + strings.Repeat("?, ", in.cols-1) + "?)"
	q := "INSERT OR REPLACE INTO " + in.table + " VALUES " + strings.Repeat(tuple+", ", n-1) + tuple
	args, first, last := in.args, in.names[0], in.names[n-1]
	in.args, in.names = make([]any, 0, len(args)), in.names[:0]
	if err := in.w.wait(); err != nil {
		return err
	}
	done := make(chan error, 1)
	in.w.pending = done
	go func() {
		err := in.w.run(q, args...)
		switch {
		case err == nil:
		case n == 1:
			err = fmt.Errorf("%s: %w", first, err)
		default:
			err = fmt.Errorf("%s … %s (%d rows): %w", first, last, n, err)
		}
		done <- err
	}()
	return nil
}

func compareKeys(a, b ksync.RecordKey) int {
	return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
}

func saveRecords(w *writer, prev, next *ksync.State) error {
	var put, gone []ksync.RecordKey
	kept := 0 // rows of prev still in next: when all are, none is gone
	for k, r := range next.Records {
		p := prev.Records[k]
		if p != nil {
			kept++
		}
		// Times are stored in whole seconds: compare them so.
		if p != nil && p.Hash == r.Hash && p.UID == r.UID && toUnix(p.Seen) == toUnix(r.Seen) &&
			toUnix(p.FirstSeen) == toUnix(r.FirstSeen) && p.Scanned == r.Scanned {
			continue
		}
		put = append(put, k)
	}
	for k := range prev.Records {
		if kept == len(prev.Records) {
			break
		}
		if _, ok := next.Records[k]; !ok {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(put, compareKeys)
	slices.SortFunc(gone, compareKeys)
	ins := w.inserter("records(source, id, hash, card, seen, scanned, first_seen, uid)")
	for _, k := range put {
		r := next.Records[k]
		data := r.Raw
		if r.Card != nil {
			data = card.EncodeBytes(r.Card)
		}
		if err := ins.add("record "+k.String(), k.Source, k.ID, r.Hash, data, toUnix(r.Seen), r.Scanned, toUnix(r.FirstSeen), r.UID); err != nil {
			return err
		}
	}
	if err := ins.flush(); err != nil {
		return err
	}
	for _, k := range gone {
		if err := w.exec("DELETE FROM records WHERE source = ? AND id = ?", k.Source, k.ID); err != nil {
			return fmt.Errorf("record %s: %w", k, err)
		}
	}
	return nil
}

func saveContacts(w *writer, prev, next *ksync.State) error {
	var put, gone []string
	kept := 0
	for uid, c := range next.Contacts {
		p := prev.Contacts[uid]
		if p != nil {
			kept++
		}
		if p != nil && p.Hash == c.Hash && toUnix(p.Created) == toUnix(c.Created) && slices.Equal(p.Reasons, c.Reasons) {
			continue
		}
		put = append(put, uid)
	}
	for uid := range prev.Contacts {
		if kept == len(prev.Contacts) {
			break
		}
		if _, ok := next.Contacts[uid]; !ok {
			gone = append(gone, uid)
		}
	}
	slices.Sort(put)
	slices.Sort(gone)
	ins := w.inserter("contacts(uid, name, hash, card, created, reasons)")
	for _, uid := range put {
		c := next.Contacts[uid]
		reasons, err := json.Marshal(c.Reasons)
		if err != nil {
			return err
		}
		if c.Reasons == nil {
			reasons = []byte("[]")
		}
		if err := ins.add("contact "+uid, uid, ksync.DisplayName(c.Card), c.Hash, card.EncodeBytes(c.Card), toUnix(c.Created),
			string(reasons)); err != nil {
			return err
		}
	}
	if err := ins.flush(); err != nil {
		return err
	}
	for _, uid := range gone {
		if err := w.exec("DELETE FROM contacts WHERE uid = ?", uid); err != nil {
			return fmt.Errorf("contact %s: %w", uid, err)
		}
	}
	return nil
}

func saveTargets(w *writer, prev, next *ksync.State) error {
	ins := w.inserter("target_entries(target, href, uid, etag, hash, card, deleted, base, base_hash, is_group)")
	for _, target := range slices.Sorted(maps.Keys(next.Targets)) {
		entries, old := next.Targets[target], prev.Targets[target]
		var put, gone []string
		kept := 0
		for href, e := range entries {
			p := old[href]
			if p != nil {
				kept++
			}
			if p != nil && p.UID == e.UID && p.ETag == e.ETag && p.Hash == e.Hash && p.Deleted == e.Deleted &&
				p.BaseHash == e.BaseHash && p.Group == e.Group {
				continue
			}
			put = append(put, href)
		}
		for href := range old {
			if kept == len(old) {
				break
			}
			if _, ok := entries[href]; !ok {
				gone = append(gone, href)
			}
		}
		slices.Sort(put)
		slices.Sort(gone)
		for _, href := range put {
			e := entries[href]
			var data, base []byte
			if e.Card != nil {
				data = card.EncodeBytes(e.Card)
			}
			if e.Base != nil {
				base = card.EncodeBytes(e.Base)
			}
			if err := ins.add(fmt.Sprintf("target %q: %s", target, href), target, href, e.UID, e.ETag, e.Hash, data, e.Deleted, base, e.BaseHash, e.Group); err != nil {
				return err
			}
		}
		if err := ins.flush(); err != nil {
			return err
		}
		for _, href := range gone {
			if err := w.exec("DELETE FROM target_entries WHERE target = ? AND href = ?", target, href); err != nil {
				return fmt.Errorf("target %q: %s: %w", target, href, err)
			}
		}
	}
	for target := range prev.Targets {
		if _, ok := next.Targets[target]; !ok {
			if err := w.exec("DELETE FROM target_entries WHERE target = ?", target); err != nil {
				return fmt.Errorf("target %q: %w", target, err)
			}
		}
	}
	return nil
}

func saveCursors(w *writer, prev, next *ksync.State) error {
	return saveStrings(w, "cursors", "source", "cursor", prev.Cursors, next.Cursors)
}

// saveStrings writes the rows of a table of string keys and values (key
// and value name its columns) that differ from prev; a big value goes in
// parts, of which only the changed are written (putValue).
func saveStrings(w *writer, table, key, value string, prev, next map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if old, ok := prev[k]; ok && old == next[k] {
			continue
		}
		if err := w.putValue(table, key, value, k, next[k]); err != nil {
			return fmt.Errorf("%s %q: %w", table, k, err)
		}
	}
	for k := range prev {
		if _, ok := next[k]; !ok {
			if err := w.deleteValue(table, key, k); err != nil {
				return fmt.Errorf("%s %q: %w", table, k, err)
			}
		}
	}
	return nil
}

// interactionKey identifies an interaction row.
type interactionKey struct{ source, ref string }

// sameInteraction says whether a and b are the same row with the same values.
func sameInteraction(a, b ksync.Interaction) bool {
	return a.Source == b.Source && a.Ref == b.Ref && a.Date.Equal(b.Date) && a.Kind == b.Kind && a.People == b.People
}

func saveInteractions(w *writer, prev, next *ksync.State) error {
	index := func(ins []ksync.Interaction) map[interactionKey]ksync.Interaction {
		m := make(map[interactionKey]ksync.Interaction, len(ins))
		for _, in := range ins {
			m[interactionKey{in.Source, in.Ref}] = in
		}
		return m
	}
	type row struct {
		uid string
		in  ksync.Interaction
	}
	var put, gone []row
	kept := 0
	for uid, ins := range next.Interactions {
		was, ok := prev.Interactions[uid]
		if ok {
			kept++
		}
		if slices.EqualFunc(was, ins, sameInteraction) {
			continue // the usual case, without a map
		}
		old, now := index(was), index(ins)
		for k, in := range now {
			if o, ok := old[k]; ok && sameInteraction(o, in) {
				continue
			}
			put = append(put, row{uid, in})
		}
		for k, in := range old {
			if _, ok := now[k]; !ok {
				gone = append(gone, row{uid, in})
			}
		}
	}
	for uid, ins := range prev.Interactions {
		if kept == len(prev.Interactions) {
			break
		}
		if _, ok := next.Interactions[uid]; !ok {
			for _, in := range ins {
				gone = append(gone, row{uid, in})
			}
		}
	}
	byKey := func(a, b row) int {
		return cmp.Or(cmp.Compare(a.uid, b.uid), cmp.Compare(a.in.Source, b.in.Source), cmp.Compare(a.in.Ref, b.in.Ref))
	}
	slices.SortFunc(put, byKey)
	slices.SortFunc(gone, byKey)
	ins := w.inserter("interactions(uid, day, kind, source, ref, people)")
	for _, r := range put {
		if err := ins.add(fmt.Sprintf("interaction %s %s", r.uid, r.in.Ref), r.uid, r.in.Date.Format(time.DateOnly), r.in.Kind,
			r.in.Source, r.in.Ref, r.in.People); err != nil {
			return err
		}
	}
	if err := ins.flush(); err != nil {
		return err
	}
	for _, r := range gone {
		if err := w.exec("DELETE FROM interactions WHERE uid = ? AND source = ? AND ref = ?", r.uid, r.in.Source, r.in.Ref); err != nil {
			return fmt.Errorf("interaction %s %s: %w", r.uid, r.in.Ref, err)
		}
	}
	return nil
}

func saveHistory(w *writer, prev, next *ksync.State) error {
	for week, counts := range next.History {
		for state, n := range counts {
			if o, ok := prev.History[week][state]; ok && o == n {
				continue
			}
			if err := w.exec("INSERT OR REPLACE INTO report_history(week, state, count) VALUES (?, ?, ?)", week, state, n); err != nil {
				return fmt.Errorf("report history %s: %w", week, err)
			}
		}
		for state := range prev.History[week] {
			if _, ok := counts[state]; !ok {
				if err := w.exec("DELETE FROM report_history WHERE week = ? AND state = ?", week, state); err != nil {
					return fmt.Errorf("report history %s: %w", week, err)
				}
			}
		}
	}
	return nil
}

func saveMeta(w *writer, prev, next *ksync.State) error {
	return saveStrings(w, "meta", "key", "value", prev.Meta, next.Meta)
}

// saveLeft writes the contacts that left their sources. The nothing-changed
// path saves a State without Left: then nothing is touched.
func saveLeft(w *writer, prev, next *ksync.State) error {
	if next.Left == nil {
		return nil
	}
	for uid, l := range next.Left {
		if p := prev.Left[uid]; p == l {
			continue
		}
		var base []byte
		if l.Base != nil {
			base = card.EncodeBytes(l.Base)
		}
		if err := w.exec(`INSERT OR REPLACE INTO left_contacts(uid, name, hash, card, left, edited, base)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, uid, ksync.DisplayName(l.Card), card.Hash(l.Card), card.EncodeBytes(l.Card),
			toUnix(l.Left), l.Edited, base); err != nil {
			return fmt.Errorf("contact %s that left its sources: %w", uid, err)
		}
	}
	for uid := range prev.Left {
		if _, ok := next.Left[uid]; !ok {
			if err := w.exec("DELETE FROM left_contacts WHERE uid = ?", uid); err != nil {
				return fmt.Errorf("contact %s that left its sources: %w", uid, err)
			}
		}
	}
	return nil
}
