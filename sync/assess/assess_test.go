package assess

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/decay"
	"kith/sync/normalize"
)

var now = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func mkCard(fn string, props ...string) vcard.Card {
	c := vcard.Card{}
	c.SetValue("VERSION", "3.0")
	c.SetValue("FN", card.EscapeText(fn))
	for i := 0; i+1 < len(props); i += 2 {
		c.Add(props[i], &vcard.Field{Value: props[i+1]})
	}
	return c
}

func newAssessor(t *testing.T, stateCats bool, contacts []*ksync.Contact, records map[ksync.RecordKey]*ksync.StoredRecord, external []ksync.Interaction) *Assessor {
	t.Helper()
	n, err := normalize.New("DE")
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Decay: decay.DefaultParams(), StateCategories: stateCats, Normalizer: n}, now, contacts, records,
		func(string) time.Time { return now.AddDate(-1, 0, 0) }, external)
}

func TestInteractionsAreTiedToTheRightContact(t *testing.T) {
	anna := &ksync.Contact{UID: "anna", Card: mkCard("Anna", "EMAIL", "anna@example.org", "TEL", "0171 2345678"),
		Members: []ksync.RecordKey{{Source: "scans", ID: "a.csv#1"}}}
	ada := &ksync.Contact{UID: "ada", Card: mkCard("Ada", "EMAIL", "info@engines.example")}
	charles := &ksync.Contact{UID: "charles", Card: mkCard("Charles", "EMAIL", "info@engines.example")}
	records := map[ksync.RecordKey]*ksync.StoredRecord{
		{Source: "scans", ID: "a.csv#1"}: {Record: ksync.Record{Scanned: true, Seen: time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)}},
	}
	external := []ksync.Interaction{
		{Date: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), Kind: ksync.KindCall, Source: "cal", Ref: "e1", People: 1, Who: []string{"+491712345678"}},
		// A shared address (info@) says nothing about who took part.
		{Date: time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC), Kind: ksync.KindMailSent, Source: "mail", Ref: "m1", People: 1, Who: []string{"info@engines.example"}},
	}
	a := newAssessor(t, false, []*ksync.Contact{anna, ada, charles}, records, external)

	got := a.Interactions("anna", anna.Card)
	var kinds []string
	for _, in := range got {
		kinds = append(kinds, in.Date.Format("01-02")+" "+in.Kind)
	}
	if !slices.Equal(kinds, []string{"11-03 card", "11-10 call"}) {
		t.Errorf("Anna's interactions %v, want the scan and the call matched by her phone", kinds)
	}
	if ins := a.Interactions("ada", ada.Card); len(ins) != 0 {
		t.Errorf("Ada got %v from a shared address", ins)
	}
}

func TestNoteLinesCountOnceAcrossCards(t *testing.T) {
	c := &ksync.Contact{UID: "u", Card: mkCard("Bob", "NOTE", `2026-11-20 coffee\n2026-11-01 call`)}
	user := mkCard("Bob", "NOTE", `2026-11-20 coffee\n2026-11-01 call\n2026-11-22 lunch`)
	a := newAssessor(t, false, []*ksync.Contact{c}, nil, nil)
	got := a.Interactions("u", c.Card, user)
	if len(got) != 3 {
		t.Errorf("%d interactions %v, want 3 (a line in both cards counts once)", len(got), got)
	}
	if a := a.Assess("u", "Bob", c.Card, user); a.Last == nil || a.Last.Date.Day() != 22 {
		t.Errorf("last interaction %v, want the 22nd (the user's line)", a.Last)
	}
}

func TestAnnotateSetsPropertiesAndStateCategory(t *testing.T) {
	c := &ksync.Contact{UID: "u", Card: mkCard("Bob", "NOTE", `2026-11-20 coffee`, "CATEGORIES", "friends,kith-cold")}
	a := newAssessor(t, true, []*ksync.Contact{c}, nil, nil)
	out := a.Annotate("u", c.Card)
	if out.Value(PropLast) != "2026-11-20" || out.Value(PropLastKind) != ksync.KindMeeting || out.Value(PropState) == "" {
		t.Errorf("properties %q %q %q", out.Value(PropLast), out.Value(PropLastKind), out.Value(PropState))
	}
	cats := card.List(out.Value("CATEGORIES"))
	if slices.Contains(cats, "kith-cold") || !slices.Contains(cats, "friends") || !slices.ContainsFunc(cats, func(s string) bool {
		return s == StatePrefix+out.Value(PropState)
	}) {
		t.Errorf("categories %v: the old state category must go, the user's stay, the new state be there", cats)
	}
	if strings.Contains(c.Card.Value("CATEGORIES"), StatePrefix+out.Value(PropState)) && out.Value(PropState) != "cold" {
		t.Error("Annotate changed the card it was given")
	}
	if again := a.Annotate("u", out); card.Hash(again) != card.Hash(out) {
		t.Error("Annotate is not stable: a second pass changes the card")
	}
}
