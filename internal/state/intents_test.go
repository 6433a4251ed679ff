package state

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// A delete recorded before it is made outlives a sync that stops before
// its save, is counted as work left by LoadLight, survives a save that
// knows nothing of deletes (the "nothing changed" save), and goes with the
// next full save unless that save keeps it.
func TestRecordedDeletesLastUntilAFullSave(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := sampleState()
	run := Run{Started: time.Now(), Finished: time.Now()}
	if err := st.Save(ctx, nil, base, run); err != nil {
		t.Fatal(err)
	}
	words := testCard("Anna Schmidt")
	words.Add("NOTE", &vcard.Field{Value: "met at the jazz club"})
	ds := []*ksync.Intent{
		{Href: "kith-1.vcf", Kind: ksync.IntentLeave, UID: "kith-1", ETag: `"e1"`, Card: words, Base: testCard("Anna")},
		{Href: "u2.vcf", Kind: ksync.IntentFold, UID: "kith-1", ETag: `"u2"`, Card: testCard("Carla")},
	}
	if err := st.RecordIntents(ctx, "people", ds); err != nil {
		t.Fatal(err)
	}

	loaded, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := loaded.Pending["people"]
	if len(got) != 2 {
		t.Fatalf("loaded pending deletes %v, want 2", got)
	}
	l := got["kith-1.vcf"]
	if l.Kind != ksync.IntentLeave || l.UID != "kith-1" || l.ETag != `"e1"` || card.Hash(l.Card) != card.Hash(words) || l.Base == nil {
		t.Errorf("leave delete came back as %+v", l)
	}
	if f := got["u2.vcf"]; f.Kind != ksync.IntentFold || f.Base != nil || card.Hash(f.Card) != card.Hash(testCard("Carla")) {
		t.Errorf("fold delete came back as %+v", f)
	}
	light, err := st.LoadLight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if light.Behind < 2 {
		t.Errorf("LoadLight.Behind = %d with 2 deletes left over, want them counted", light.Behind)
	}

	// The "nothing changed" save carries cursors only: the deletes stay.
	if err := st.Save(ctx, &ksync.State{Cursors: loaded.Cursors}, &ksync.State{Cursors: loaded.Cursors}, run); err != nil {
		t.Fatal(err)
	}
	if again, err := st.Load(ctx); err != nil || len(again.Pending["people"]) != 2 {
		t.Fatalf("after a cursors-only save: pending %v (%v), want both kept", again.Pending, err)
	}

	// A full save keeps what its state still holds (a target it could not
	// read) and forgets the rest.
	next := sampleState()
	next.Pending["people"] = map[string]*ksync.Intent{"u2.vcf": got["u2.vcf"]}
	if err := st.Save(ctx, loaded, next, run); err != nil {
		t.Fatal(err)
	}
	again, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := again.Pending["people"]; len(p) != 1 || p["u2.vcf"] == nil {
		t.Errorf("after a full save keeping one: pending %v, want u2.vcf only", p)
	}
	if err := st.Save(ctx, again, sampleState(), run); err != nil {
		t.Fatal(err)
	}
	if again, err = st.Load(ctx); err != nil || len(again.Pending) != 0 {
		t.Errorf("after a full save: pending %v (%v), want none", again.Pending, err)
	}
}
