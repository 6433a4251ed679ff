package state

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

func testCard(fn string) vcard.Card {
	c := vcard.Card{}
	c.Add("VERSION", &vcard.Field{Value: "3.0"})
	c.Add("FN", &vcard.Field{Value: card.EscapeText(fn)})
	c.Add("NOTE", &vcard.Field{Value: `line one\nline\, two\; with escapes`})
	return c
}

func sampleState() *ksync.State {
	s := ksync.NewState()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := ksync.Record{Source: "book", ID: "anna.vcf", Card: testCard("Anna Schmidt"), Seen: now}
	r.Hash = card.Hash(r.Card)
	s.Records[r.Key()] = &ksync.StoredRecord{Record: r, UID: "kith-1", FirstSeen: now}
	g := testCard("Anna Schmidt")
	s.Contacts["kith-1"] = &ksync.StoredContact{UID: "kith-1", Card: g, Hash: card.Hash(g), Created: now, Reasons: []string{"same email"}}
	old := testCard("Anna Schmidt (old)")
	group := testCard("Family")
	group.Add("X-ADDRESSBOOKSERVER-KIND", &vcard.Field{Value: "group"})
	s.Targets["people"] = map[string]*ksync.TargetEntry{
		"kith-1.vcf": {UID: "kith-1", ETag: `"e1"`, Card: g, Hash: card.Hash(g), Base: old, BaseHash: card.Hash(old)},
		"FAMILY.vcf": {Group: true, ETag: `"g1"`, Card: group, Hash: card.Hash(group)},
	}
	s.Left["kith-2"] = &ksync.LeftContact{UID: "kith-2", Card: testCard("Ben Left"), Left: now, Edited: true, Base: testCard("Ben Before")}
	s.Cursors["book"] = "token-1"
	return s
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleState()
	want.Meta[ksync.MetaFingerprint] = "fp-1"
	want.Meta[ksync.MetaPossible] = `[{"a":"kith-1","b":"kith-2"}]`
	if err := st.Save(ctx, nil, want, Run{Started: time.Now(), Finished: time.Now(), Summary: map[string]int{"records": 1}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.DecodeRecords(); err != nil {
		t.Fatal(err)
	}
	r := got.Records[ksync.RecordKey{Source: "book", ID: "anna.vcf"}]
	if r == nil || r.UID != "kith-1" || r.Hash != card.Hash(r.Card) || r.Card.Value("NOTE") != `line one\nline\, two\; with escapes` {
		t.Fatalf("record did not survive: %+v", r)
	}
	c := got.Contacts["kith-1"]
	if c == nil || len(c.Members) != 1 || c.Reasons[0] != "same email" || !c.Created.Equal(want.Contacts["kith-1"].Created) {
		t.Fatalf("contact did not survive: %+v", c)
	}
	if e := got.Targets["people"]["kith-1.vcf"]; e == nil || e.ETag != `"e1"` || e.Card == nil || e.Group ||
		e.BaseHash != card.Hash(e.Base) || e.Base.Value("FN") != "Anna Schmidt (old)" {
		t.Fatalf("target entry did not survive: %+v", e)
	}
	if e := got.Targets["people"]["FAMILY.vcf"]; e == nil || !e.Group || e.UID != "" || e.Base != nil {
		t.Fatalf("group entry did not survive: %+v", e)
	}
	if l := got.Left["kith-2"]; l == nil || !l.Edited || !l.Left.Equal(want.Left["kith-2"].Left) || l.Card.Value("NOTE") != `line one\nline\, two\; with escapes` ||
		ksync.DisplayName(l.Base) != "Ben Before" {
		t.Fatalf("contact that left its sources did not survive: %+v", l)
	}
	light, err := st.LoadLight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The entry was made from another golden card than the contact's: behind.
	if light.Entries["people"] != 1 || light.Behind != 1 || len(light.ETags["people"]) != 2 {
		t.Errorf("light state: %d entries (want 1: groups do not count), %d behind (want 1), ETags %v", light.Entries["people"], light.Behind, light.ETags["people"])
	}
	// The possible duplicates (megabytes on a big book) are the full state's only.
	if _, ok := light.Meta[ksync.MetaPossible]; ok || light.Meta[ksync.MetaFingerprint] != "fp-1" || got.Meta[ksync.MetaPossible] != want.Meta[ksync.MetaPossible] {
		t.Errorf("light meta %v, full meta %v: want the fingerprint in both, the possible duplicates in the full state only", light.Meta, got.Meta)
	}
	if got.Cursors["book"] != "token-1" {
		t.Fatalf("cursor %q", got.Cursors["book"])
	}
	if v, _ := st.Version(ctx); v != len(migrations) {
		t.Errorf("schema version %d, want %d", v, len(migrations))
	}
}

func TestSaveRemovesWhatIsGone(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := sampleState()
	if err := st.Save(ctx, nil, first, Run{}); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, first, ksync.NewState(), Run{}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Load(ctx)
	if len(got.Records)+len(got.Contacts)+len(got.Targets)+len(got.Cursors) != 0 {
		t.Errorf("rows left after everything went: %+v", got)
	}
}

// A save that fails half-way leaves the previous state whole.
func TestFailedSaveLeavesPreviousState(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := sampleState()
	if err := st.Save(ctx, nil, first, Run{}); err != nil {
		t.Fatal(err)
	}
	next := sampleState()
	next.Records[ksync.RecordKey{Source: "book", ID: "bob.vcf"}] = &ksync.StoredRecord{Record: ksync.Record{Source: "book", ID: "bob.vcf", Card: testCard("Bob"), Hash: "h"}, UID: "kith-2"}
	delete(next.Contacts, "kith-1")
	// The summary cannot be encoded: the save fails after the rows were written.
	err = st.Save(ctx, first, next, Run{Summary: func() {}})
	if err == nil {
		t.Fatal("save with an unencodable summary succeeded")
	}
	got, _ := st.Load(ctx)
	if len(got.Records) != 1 || got.Contacts["kith-1"] == nil {
		t.Errorf("a failed save changed the state: %d records, contacts %v", len(got.Records), got.Contacts)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA journal_mode = WAL")
	db.Exec("PRAGMA user_version = 99")
	db.Close()
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "newer than this kith knows") {
		t.Fatalf("error %v, want a refusal of the newer schema", err)
	}
}

// Every kind of change, over more rows than one statement carries, reads
// back as saved: the rows written, kept and deleted are the right ones.
func TestSaveWritesChangesInBatches(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 2*batchRows + 37
	first := benchState(n)
	if err := st.Save(ctx, nil, first, Run{}); err != nil {
		t.Fatal(err)
	}
	next := changed(first, batchRows+3, "second")
	for i := n - 20; i < n; i++ { // gone everywhere
		uid := fmt.Sprintf("kith-%06d", i)
		delete(next.Records, ksync.RecordKey{Source: "book", ID: fmt.Sprintf("card-%06d.vcf", i)})
		delete(next.Contacts, uid)
		delete(next.Targets["people"], uid+".vcf")
		delete(next.Interactions, uid)
	}
	for i := 5; i < 15; i++ { // one interaction changed, one gone, one new
		uid := fmt.Sprintf("kith-%06d", i)
		ins := slices.Clone(next.Interactions[uid])
		ins[0].Kind = ksync.KindCall
		ins[1] = ksync.Interaction{Date: ins[1].Date, Kind: ksync.KindMailSent, Source: "work", Ref: "new-" + uid, People: 2}
		next.Interactions[uid] = ins
	}
	next.Targets["people"]["kith-000003.vcf"] = &ksync.TargetEntry{UID: "kith-000003", Deleted: true}
	next.Targets["phone"] = map[string]*ksync.TargetEntry{"x.vcf": {Group: true, ETag: `"x"`, Card: testCard("Family")}}
	if err := st.Save(ctx, first, next, Run{}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != len(next.Records) || len(got.Contacts) != len(next.Contacts) || len(got.Targets["people"]) != len(next.Targets["people"]) {
		t.Fatalf("%d records, %d contacts, %d entries; want %d, %d, %d", len(got.Records), len(got.Contacts), len(got.Targets["people"]),
			len(next.Records), len(next.Contacts), len(next.Targets["people"]))
	}
	for k, r := range next.Records {
		if g := got.Records[k]; g == nil || g.Hash != r.Hash || g.UID != r.UID {
			t.Errorf("record %s: got %+v", k, g)
		} else if c, err := card.Decode(g.Raw); err != nil || card.Hash(c) != r.Hash {
			t.Errorf("record %s: stored card is not the saved one (%v)", k, err)
		}
	}
	for uid, c := range next.Contacts {
		if g := got.Contacts[uid]; g == nil || g.Hash != c.Hash || card.Hash(g.Card) != c.Hash {
			t.Errorf("contact %s: got %+v", uid, g)
		}
	}
	for target, entries := range next.Targets {
		for href, e := range entries {
			g := got.Targets[target][href]
			if g == nil || g.ETag != e.ETag || g.Deleted != e.Deleted || g.Group != e.Group || g.BaseHash != e.BaseHash ||
				(e.Card != nil && card.Hash(g.Card) != card.Hash(e.Card)) {
				t.Errorf("target %s %s: got %+v, want %+v", target, href, g, e)
			}
		}
	}
	if len(got.Interactions) != len(next.Interactions) {
		t.Errorf("interactions of %d contacts, want %d", len(got.Interactions), len(next.Interactions))
	}
	for uid, ins := range next.Interactions {
		want := slices.Clone(ins)
		key := func(a, b ksync.Interaction) int { return cmp.Compare(a.Source+a.Ref, b.Source+b.Ref) }
		slices.SortFunc(want, key)
		have := slices.Clone(got.Interactions[uid])
		slices.SortFunc(have, key)
		if !slices.EqualFunc(want, have, sameInteraction) {
			t.Errorf("interactions of %s: got %+v, want %+v", uid, have, want)
		}
	}
}

// A batch that fails late in a save leaves nothing of the save behind, and
// the error names the rows.
func TestFailedBatchLeavesPreviousState(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := benchState(batchRows + 10)
	if err := st.Save(ctx, nil, first, Run{}); err != nil {
		t.Fatal(err)
	}
	next := changed(first, batchRows+10, "second")
	// A record without a card breaks records.card NOT NULL in the last batch.
	bad := ksync.RecordKey{Source: "book", ID: fmt.Sprintf("card-%06d.vcf", batchRows+5)}
	r := *next.Records[bad]
	r.Card, r.Raw = nil, nil
	next.Records[bad] = &r
	err = st.Save(ctx, first, next, Run{})
	if err == nil || !strings.Contains(err.Error(), "record book:card-000100.vcf") {
		t.Fatalf("error %v, want one naming the failed batch's records", err)
	}
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, r := range first.Records {
		if g := got.Records[k]; g == nil || g.Hash != r.Hash {
			t.Fatalf("record %s changed by a failed save", k)
		}
	}
	if got.Cursors["book"] != first.Cursors["book"] {
		t.Errorf("cursor %q saved by a failed save", got.Cursors["book"])
	}
}
