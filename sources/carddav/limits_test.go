package carddav

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"kith/internal/davtest"
	ksync "kith/sync"
	"kith/sync/card"
)

// testLimits are the card limits of the limit tests: bigCard is over the
// size, manyCard over the properties.
var testLimits = card.Limits{Size: 16 << 10, Properties: 100}

// bigCard is a card of about 40 KiB, over testLimits.Size.
func bigCard(uid, fn string) string {
	return davtest.Card(uid, fn, "NOTE:"+strings.Repeat("secret ", 6<<10))
}

// manyCard is a card of 150 properties (about 4 KiB), over
// testLimits.Properties and under its size.
func manyCard(uid, fn string) string {
	var extra []string
	for i := range 145 {
		extra = append(extra, fmt.Sprintf("EMAIL:p%d@secret.example", i))
	}
	return davtest.Card(uid, fn, extra...)
}

// limitKeys returns "name=key" for each problem over a card limit, sorted,
// and fails the test on any other problem or on one whose message shows
// the card's content.
func limitKeys(t *testing.T, probs []ksync.Problem) []string {
	t.Helper()
	var out []string
	for _, p := range probs {
		var over *card.LimitError
		if !errors.As(p.Err, &over) {
			t.Errorf("%s: problem %v, want a *card.LimitError", p.ID, p.Err)
			continue
		}
		if strings.Contains(p.Error(), "secret") {
			t.Errorf("%s: the problem shows the card's content: %v", p.ID, p)
		}
		out = append(out, p.ID[strings.LastIndex(p.ID, "/")+1:]+"="+over.Key)
	}
	slices.Sort(out)
	return out
}

// TestSourceCardLimits: a card over Options.Card (too big, or too many
// properties) is skipped and reported, once for its ETag, and its last
// good version is kept (no deletion); the other cards arrive; once it is
// made small it arrives. Both ways of reading a book, and a multiget
// answer over MaxAnswer, whose batch is read one by one with GETs that
// stop at the card size.
func TestSourceCardLimits(t *testing.T) {
	cases := []struct {
		name      string
		hideSync  bool
		maxAnswer int64
	}{
		{"sync-collection", false, 0},
		{"ctag", true, 0},
		// A batch holding the big card is over the answer limit.
		{"answer over the cap", false, 24 << 10},
	}
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				book := srv.MakeBook(t, fmt.Sprintf("l%d", i), "Limits")
				for n := range 3 {
					srv.PutCard(t, fmt.Sprintf("%sc%d.vcf", book, n), davtest.Card(fmt.Sprintf("u%d", n), fmt.Sprintf("Person %d", n)))
				}
				srv.PutCard(t, book+"big.vcf", davtest.Card("big", "Big Small"))
				srv.PutCard(t, book+"many.vcf", davtest.Card("many", "Many Small"))
				px := davtest.NewProxy(t, srv.URL)
				if tc.hideSync {
					px.AddFault(&davtest.Fault{HideSync: true})
				}
				s := newSource(t, srv, px.URL+book, func(o *Options) { o.Card, o.MaxAnswer = testLimits, tc.maxAnswer })
				check := func(what string, snap ksync.Snapshot, records, problems []string) {
					t.Helper()
					if got := names(snap.Records); !slices.Equal(got, records) {
						t.Errorf("%s: records %v, want %v", what, got, records)
					}
					if got := limitKeys(t, snap.Problems); !slices.Equal(got, problems) {
						t.Errorf("%s: problems %v, want %v", what, got, problems)
					}
					if len(snap.Deleted) > 0 {
						t.Errorf("%s: deleted %v, want none", what, snap.Deleted)
					}
				}

				first := read(t, s, "")
				check("first read", first, []string{"big.vcf=Big Small", "c0.vcf=Person 0", "c1.vcf=Person 1", "c2.vcf=Person 2", "many.vcf=Many Small"}, nil)
				state := model{}.apply(first)

				srv.PutCard(t, book+"big.vcf", bigCard("big", "Big Huge"))
				srv.PutCard(t, book+"many.vcf", manyCard("many", "Many Huge"))
				srv.PutCard(t, book+"c1.vcf", davtest.Card("u1", "Person One"))
				px.Reset()
				over := read(t, s, first.Cursor)
				check("cards made too big", over, []string{"c1.vcf=Person One"}, []string{"big.vcf=card_size", "many.vcf=properties"})
				if tc.maxAnswer > 0 && px.Count("GET") == 0 {
					t.Errorf("no GET after a multiget over the answer limit: %v", px.Requests())
				}
				state = state.apply(over)
				want := model{book + "c0.vcf": "Person 0", book + "c1.vcf": "Person One", book + "c2.vcf": "Person 2",
					book + "big.vcf": "Big Small", book + "many.vcf": "Many Small"}
				if !maps.Equal(state, want) {
					t.Errorf("the records kept: %v, want %v", state, want)
				}

				// Not fetched nor reported again at the same ETag.
				px.Reset()
				again := read(t, s, over.Cursor)
				check("the read after", again, nil, nil)
				var fetches []string
				for _, r := range px.Requests() {
					if r.Kind == "addressbook-multiget" || r.Kind == "GET" {
						fetches = append(fetches, r.Kind+" "+r.Path)
					}
				}
				if len(fetches) > 0 {
					t.Errorf("the read after fetched cards again: %v", fetches)
				}

				// A full read (no cursor) reports them, so their last good
				// version stays; the read after it does not.
				full := read(t, s, "")
				check("full read", full, []string{"c0.vcf=Person 0", "c1.vcf=Person One", "c2.vcf=Person 2"}, []string{"big.vcf=card_size", "many.vcf=properties"})
				if state = state.apply(full); !maps.Equal(state, want) {
					t.Errorf("the records kept by a full read: %v, want %v", state, want)
				}
				after := read(t, s, full.Cursor)
				check("the read after the full read", after, nil, nil)

				srv.PutCard(t, book+"big.vcf", davtest.Card("big", "Big Again"))
				srv.PutCard(t, book+"many.vcf", davtest.Card("many", "Many Again"))
				small := read(t, s, after.Cursor)
				check("made small again", small, []string{"big.vcf=Big Again", "many.vcf=Many Again"}, nil)
			})
		}
	})
}

// TestTargetGetCardLimits: the target's Get fails for a card over
// Options.Card, naming it and the limit, so the engine (sync.GetEach)
// leaves that card alone and takes the others.
func TestTargetGetCardLimits(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		for _, maxAnswer := range []int64{0, 24 << 10} {
			t.Run(fmt.Sprintf("answer limit %d", maxAnswer), func(t *testing.T) {
				ctx := context.Background()
				book := srv.MakeBook(t, fmt.Sprintf("t%d", maxAnswer), "People")
				srv.PutCard(t, book+"ada.vcf", davtest.Card("ada", "Ada"))
				srv.PutCard(t, book+"big.vcf", bigCard("big", "Big"))
				srv.PutCard(t, book+"many.vcf", manyCard("many", "Many"))
				tg, err := NewTarget(Options{Name: "people", URL: srv.URL + book, Username: srv.Username, Password: srv.Password,
					Card: testLimits, MaxAnswer: maxAnswer})
				if err != nil {
					t.Fatal(err)
				}
				for href, key := range map[string]string{"big.vcf": "card_size", "many.vcf": "properties"} {
					_, err := tg.Get(ctx, []string{"ada.vcf", href})
					var over *card.LimitError
					if !errors.As(err, &over) || over.Key != key || !strings.Contains(err.Error(), href) || strings.Contains(err.Error(), "secret") {
						t.Errorf("Get of %s: %v, want an error naming it and %s, without its content", href, err, key)
					}
				}
				got, bad, err := ksync.GetEach(ctx, tg, []string{"ada.vcf", "big.vcf", "many.vcf"})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(slices.Sorted(maps.Keys(got)), []string{"ada.vcf"}) || !slices.Equal(slices.Sorted(maps.Keys(bad)), []string{"big.vcf", "many.vcf"}) {
					t.Errorf("GetEach: read %v, unreadable %v; want ada.vcf read, big.vcf and many.vcf not", slices.Sorted(maps.Keys(got)), bad)
				}
			})
		}
	})
}

// TestSourceEndlessCard: a server that sends a card without end, in a
// multiget and in a GET, costs kith no more than the answer limit and the
// card size: the batch is read one by one, the endless card is skipped
// over card_size, and the others arrive.
func TestSourceEndlessCard(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		book := srv.MakeBook(t, "endless", "Endless")
		for _, n := range []string{"a", "big", "c"} {
			srv.PutCard(t, book+n+".vcf", davtest.Card(n, "Person "+n))
		}
		px := davtest.NewProxy(t, srv.URL)
		px.AddFault(&davtest.Fault{Endless: true, Match: func(r davtest.Request) bool {
			return r.Kind == "addressbook-multiget" || r.Kind == "GET" && strings.HasSuffix(r.Path, "/big.vcf")
		}})
		s := newSource(t, srv, px.URL+book, func(o *Options) { o.Card, o.MaxAnswer = testLimits, 1<<20 })
		snap := read(t, s, "")
		if got, want := names(snap.Records), []string{"a.vcf=Person a", "c.vcf=Person c"}; !slices.Equal(got, want) {
			t.Errorf("records %v, want %v", got, want)
		}
		if got := limitKeys(t, snap.Problems); !slices.Equal(got, []string{"big.vcf=card_size"}) {
			t.Errorf("problems %v, want big.vcf over card_size", got)
		}
		if n := px.Stretched(); n > 16<<20 {
			t.Errorf("the server got %d bytes of endless cards out, want about the 1 MiB answer limit", n)
		}
		t.Logf("%d bytes of endless cards sent", px.Stretched())
		if px.Count("GET") != 3 {
			t.Errorf("the batch was not read one by one: %v", px.Requests())
		}
	})
}
