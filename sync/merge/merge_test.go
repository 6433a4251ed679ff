package merge

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
	"kith/sync/normalize"
)

func newMerger(t *testing.T) *Merger {
	t.Helper()
	n, err := normalize.New("DE")
	if err != nil {
		t.Fatal(err)
	}
	return New(n)
}

// mk builds a card from "NAME;PARAMS:VALUE" lines (raw values, no groups
// unless written as "group.NAME").
func mk(lines ...string) vcard.Card {
	c := vcard.Card{}
	for _, l := range lines {
		head, value, _ := strings.Cut(l, ":")
		parts := strings.Split(head, ";")
		f := &vcard.Field{Value: value}
		name := parts[0]
		if g, n, ok := strings.Cut(name, "."); ok {
			f.Group, name = g, n
		}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			if f.Params == nil {
				f.Params = vcard.Params{}
			}
			f.Params[k] = append(f.Params[k], strings.Split(v, ",")...)
		}
		c.Add(name, f)
	}
	return c
}

func values(c vcard.Card, name string) []string {
	var out []string
	for _, f := range c[name] {
		out = append(out, f.Value)
	}
	slices.Sort(out)
	return out
}

func TestGoldenUnionsAndDedups(t *testing.T) {
	m := newMerger(t)
	a := mk("VERSION:3.0", "UID:a", "FN:Anna Schmidt", "N:Schmidt;Anna;;;",
		"EMAIL;TYPE=HOME:anna@example.org", "TEL;TYPE=CELL:+49 171 2345678",
		"CATEGORIES:friends,kith-close", "NOTE:2026-10-02 dinner\\nshe moves to Leipzig",
		"item1.URL:https://anna.example", "item1.X-ABLABEL:blog", "X-SOCIAL;TYPE=mastodon:@anna@social.example")
	b := mk("VERSION:3.0", "UID:b", "FN:ANNA SCHMIDT", "EMAIL;TYPE=WORK:Anna@Example.ORG",
		"EMAIL:anna@schmidt-consulting.example", "TEL;TYPE=WORK:0171 2345678", "ORG:Schmidt Consulting",
		"CATEGORIES:Friends,hiring", "NOTE:she moves to Leipzig\\nCard from the hiring panel",
		"item1.URL:https://schmidt.example", "item1.X-ABLABEL:work", "PHOTO;ENCODING=b;TYPE=JPEG:AAAA")
	g := m.Golden("kith-1", []Member{{Card: a}, {Card: b, Scanned: true, Seen: time.Now()}})

	if got := g.Value(vcard.FieldFormattedName); got != "Anna Schmidt" {
		t.Errorf("FN %q, want the address book's Anna Schmidt over the scan's capitals", got)
	}
	if got := values(g, vcard.FieldEmail); !slices.Equal(got, []string{"anna@example.org", "anna@schmidt-consulting.example"}) {
		t.Errorf("emails %q", got)
	}
	if tel := g[vcard.FieldTelephone]; len(tel) != 1 || !tel[0].Params.HasType("cell") || !tel[0].Params.HasType("work") {
		t.Errorf("phones %+v, want one number with both types", tel)
	}
	if got := card.List(g.Value(vcard.FieldCategories)); !slices.Equal(got, []string{"friends", "kith-close", "hiring"}) {
		t.Errorf("categories %q", got)
	}
	if got := card.Text(g.Value(vcard.FieldNote)); got != "2026-10-02 dinner\nshe moves to Leipzig\n\nCard from the hiring panel" {
		t.Errorf("note %q", got)
	}
	if g.Value(vcard.FieldOrganization) != "Schmidt Consulting" || g.Value(vcard.FieldPhoto) != "AAAA" {
		t.Errorf("single values lost: ORG %q PHOTO %q", g.Value(vcard.FieldOrganization), g.Value(vcard.FieldPhoto))
	}
	if len(g["X-SOCIAL"]) != 1 {
		t.Errorf("unknown X- property lost: %+v", g["X-SOCIAL"])
	}
	urls, labels := g[vcard.FieldURL], g["X-ABLABEL"]
	if len(urls) != 2 || len(labels) != 2 || urls[0].Group == urls[1].Group {
		t.Fatalf("grouped URLs/labels not kept apart: %+v %+v", urls, labels)
	}
	for _, u := range urls {
		want := map[string]string{"https://anna.example": "blog", "https://schmidt.example": "work"}[u.Value]
		for _, l := range labels {
			if l.Group == u.Group && l.Value != want {
				t.Errorf("URL %s labelled %q, want %q", u.Value, l.Value, want)
			}
		}
	}
	if g.Value(vcard.FieldUID) != "kith-1" || g.Value(vcard.FieldVersion) != "3.0" {
		t.Errorf("UID/VERSION not kith's: %q %q", g.Value(vcard.FieldUID), g.Value(vcard.FieldVersion))
	}
}

// Two extensions of one switchboard are two numbers a card keeps; one
// extension spelt two ways is one.
func TestGoldenKeepsPhoneExtensions(t *testing.T) {
	m := newMerger(t)
	a := mk("VERSION:3.0", "UID:a", "FN:Anna Schmidt", "TEL;TYPE=WORK:+49 30 1234567 ext. 12")
	b := mk("VERSION:3.0", "UID:b", "FN:Anna Schmidt", "TEL;TYPE=WORK:030 1234567 x34",
		"TEL;TYPE=WORK:tel:+49-30-1234567;ext=12", "TEL;TYPE=WORK:+49 30 1234567")
	g := m.Golden("kith-1", []Member{{Card: a}, {Card: b}})
	got := values(g, vcard.FieldTelephone)
	want := []string{"+49 30 1234567", "+49 30 1234567 ext. 12", "030 1234567 x34"}
	if !slices.Equal(got, want) {
		t.Errorf("phones %q, want %q", got, want)
	}
}

func TestGoldenNewestJobWins(t *testing.T) {
	m := newMerger(t)
	old := mk("FN:Ada Lovelace", "ORG:Old Corp", "TITLE:Engineer")
	newer := mk("FN:Ada Lovelace", "ORG:Analytical Engines", "TITLE:Chief Scientist")
	g := m.Golden("u", []Member{{Card: old, Seen: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, {Card: newer, Seen: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if g.Value(vcard.FieldOrganization) != "Analytical Engines" || g.Value(vcard.FieldTitle) != "Chief Scientist" {
		t.Errorf("job %q / %q, want the newest record's", g.Value(vcard.FieldOrganization), g.Value(vcard.FieldTitle))
	}
}

func TestGoldenGivesRequiredNames(t *testing.T) {
	g := newMerger(t).Golden("u", []Member{{Card: mk("EMAIL:x@example.com")}})
	if g.Value(vcard.FieldFormattedName) != "x@example.com" || g.Get(vcard.FieldName) == nil {
		t.Errorf("FN %q N %v: vCard 3.0 needs both", g.Value(vcard.FieldFormattedName), g.Get(vcard.FieldName))
	}
}

func TestRebase(t *testing.T) {
	m := newMerger(t)
	base := mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0100", "EMAIL:bob@old.example",
		"CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Acme")
	tests := []struct {
		name       string
		next, user vcard.Card
		check      func(t *testing.T, got vcard.Card)
		sameAsNext bool
		sameAsUser bool
	}{
		{name: "no user edit: result is next", user: base,
			next:       mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0100", "EMAIL:bob@new.example", "CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Acme"),
			sameAsNext: true},
		{name: "no source change: result is the user's card", next: base,
			user:       mk("VERSION:3.0", "UID:u", "FN:Robert Miller", "TEL;TYPE=HOME:+1 415 555 0199", "EMAIL:bob@old.example", "CATEGORIES:friends,kith-close", "NOTE:2026-06-14 barbecue\\n2026-11-20 coffee", "ORG:Acme"),
			sameAsUser: true},
		{name: "both change: user's rename and note line stay, source's new phone and note line arrive",
			next: mk("VERSION:3.0", "UID:u", "FN:Bob J. Miller", "TEL;TYPE=HOME:+1 415 555 0100", "TEL;TYPE=CELL:+1 415 555 0111", "EMAIL:bob@old.example",
				"CATEGORIES:friends", "NOTE:2026-06-14 barbecue\\n2026-09-01 call about the boat", "ORG:Acme"),
			user: mk("VERSION:3.0", "UID:u", "FN:Robert Miller", "TEL;TYPE=HOME:+1 415 555 0100", "EMAIL:bob@old.example",
				"CATEGORIES:friends,kith-close", "NOTE:2026-06-14 barbecue\\n2026-11-20 coffee, talked about hiring", "ORG:Acme"),
			check: func(t *testing.T, got vcard.Card) {
				if got.Value(vcard.FieldFormattedName) != "Robert Miller" {
					t.Errorf("FN %q: the user's rename must win", got.Value(vcard.FieldFormattedName))
				}
				if len(got[vcard.FieldTelephone]) != 2 {
					t.Errorf("phones %v: the source's second number must be added", values(got, vcard.FieldTelephone))
				}
				note := card.Text(got.Value(vcard.FieldNote))
				for _, line := range []string{"2026-11-20 coffee, talked about hiring", "2026-09-01 call about the boat", "2026-06-14 barbecue"} {
					if !strings.Contains(note, line) {
						t.Errorf("note %q lost %q", note, line)
					}
				}
				if got := card.List(got.Value(vcard.FieldCategories)); !slices.Contains(got, "kith-close") {
					t.Errorf("categories %q lost the user's kith-close", got)
				}
			}},
		{name: "user fixed a phone; source removed the email",
			next: mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0100", "CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Acme"),
			user: mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0101", "EMAIL:bob@old.example", "CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Acme"),
			check: func(t *testing.T, got vcard.Card) {
				if v := values(got, vcard.FieldTelephone); !slices.Equal(v, []string{"+1 415 555 0101"}) {
					t.Errorf("phones %q, want only the user's fixed number", v)
				}
				if v := values(got, vcard.FieldEmail); len(v) != 0 {
					t.Errorf("emails %q: the source removed it and the user did not touch it", v)
				}
			}},
		{name: "source changes ORG the user also changed: user wins",
			next: mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0100", "EMAIL:bob@old.example", "CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Acme Inc"),
			user: mk("VERSION:3.0", "UID:u", "FN:Bob Miller", "TEL;TYPE=HOME:+1 415 555 0100", "EMAIL:bob@old.example", "CATEGORIES:friends", "NOTE:2026-06-14 barbecue", "ORG:Bob's Boats"),
			check: func(t *testing.T, got vcard.Card) {
				if got.Value(vcard.FieldOrganization) != "Bob's Boats" {
					t.Errorf("ORG %q, want the user's", got.Value(vcard.FieldOrganization))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Rebase(base, tc.next, tc.user)
			switch {
			case tc.sameAsNext:
				if card.Hash(got) != card.Hash(tc.next) {
					t.Errorf("got\n%s\nwant\n%s", card.EncodeBytes(got), card.EncodeBytes(tc.next))
				}
			case tc.sameAsUser:
				if card.Hash(got) != card.Hash(tc.user) {
					t.Errorf("got\n%s\nwant\n%s", card.EncodeBytes(got), card.EncodeBytes(tc.user))
				}
			default:
				tc.check(t, got)
			}
		})
	}
}

func TestJoinNotesKeepsEveryLine(t *testing.T) {
	got := JoinNotes("a\n\nb", "b\nc", "", "a")
	if got != "a\n\nb\n\nc" {
		t.Errorf("JoinNotes = %q", got)
	}
}
