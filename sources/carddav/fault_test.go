package carddav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"kith/internal/davtest"
	ksync "kith/sync"
	"kith/sync/card"
)

// model applies snapshots the way the engine keeps records: a full one
// replaces everything (problem items keep their last good version), an
// incremental one changes what it names.
type model map[string]string // ID → FN

func (m model) apply(s ksync.Snapshot) model {
	next := model{}
	if !s.Full {
		maps.Copy(next, m)
	} else {
		for _, p := range s.Problems {
			if v, ok := m[p.ID]; ok {
				next[p.ID] = v
			}
		}
	}
	for _, id := range s.Deleted {
		delete(next, id)
	}
	for _, r := range s.Records {
		next[r.ID] = card.Text(r.Card.PreferredValue("FN"))
	}
	return next
}

func TestSourceFaults(t *testing.T) {
	multiget := davtest.IsKind("addressbook-multiget")
	cases := []struct {
		name  string
		fault davtest.Fault
		// fails says the faulty Read must fail; else it must succeed
		// (maybe with problems).
		fails bool
		// deadline bounds the faulty Read; 0 means none.
		deadline time.Duration
	}{
		{"503 on everything", davtest.Fault{Status: 503}, true, 0},
		{"503 on the multiget", davtest.Fault{Match: multiget, Status: 503}, false, 0},
		{"503 on every fetch", davtest.Fault{Match: func(r davtest.Request) bool { return r.Kind == "addressbook-multiget" || r.Kind == "GET" }, Status: 503}, false, 0},
		{"timeout", davtest.Fault{Delay: time.Minute}, true, time.Second},
		{"connection cut in the multiget", davtest.Fault{Match: multiget, CutBody: true}, false, 0},
		{"connection cut everywhere", davtest.Fault{CutBody: true}, true, 0},
		{"unquoted etags", davtest.Fault{ETags: "unquoted"}, false, 0},
		{"weak etags", davtest.Fault{ETags: "weak"}, false, 0},
		{"one bad card in a multiget", davtest.Fault{Match: multiget, CorruptCard: true}, false, 0},
		{"invalid sync token", davtest.Fault{InvalidToken: true}, false, 0},
	}
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				book := srv.MakeBook(t, fmt.Sprintf("b%d", i), "Book")
				truth := model{}
				put := func(n int, fn string) {
					srv.PutCard(t, fmt.Sprintf("%sc%d.vcf", book, n), davtest.Card(fmt.Sprintf("u%d", n), fn))
					truth[fmt.Sprintf("%sc%d.vcf", book, n)] = fn
				}
				for n := range 6 {
					put(n, fmt.Sprintf("Person %d", n))
				}
				px := davtest.NewProxy(t, srv.URL)
				s := newSource(t, srv, px.URL+book)
				first := read(t, s, "")
				state := model{}.apply(first)

				put(1, "Changed One")
				put(6, "New Six")
				srv.DeleteCard(t, book+"c2.vcf")
				delete(truth, book+"c2.vcf")

				f := tc.fault
				px.AddFault(&f)
				cursor := first.Cursor
				ctx := context.Background()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				snap, err := s.Read(ctx, cursor)
				switch {
				case tc.fails && err == nil:
					t.Fatalf("Read succeeded through the fault: %d records, %d problems", len(snap.Records), len(snap.Problems))
				case !tc.fails && err != nil:
					t.Fatalf("Read failed: %v", err)
				case err == nil:
					state = state.apply(snap)
					cursor = snap.Cursor
					for id, fn := range state {
						if truth[id] != fn && !slices.ContainsFunc(snap.Problems, func(p ksync.Problem) bool { return p.ID == id }) {
							t.Errorf("through the fault, %s reads %q, want %q", id, fn, truth[id])
						}
					}
				}
				px.ClearFaults()
				snap = read(t, s, cursor)
				if len(snap.Problems) > 0 {
					t.Errorf("problems after the fault was gone: %v", snap.Problems)
				}
				state = state.apply(snap)
				if !maps.Equal(state, truth) {
					t.Errorf("after recovery:\n got %v\nwant %v", state, truth)
				}
				if again := read(t, s, snap.Cursor); len(again.Records)+len(again.Deleted)+len(again.Problems) != 0 {
					t.Errorf("a further read still changes: %d records, %v deleted", len(again.Records), again.Deleted)
				}
			})
		}
	})
}

// TestSourceInvalidTokenResyncs: a sync token the server no longer
// accepts (or, on sabre/dav, one it silently answers with an older token)
// leads to one full read, and one log line that says why, with the
// server's own words.
func TestSourceInvalidTokenResyncs(t *testing.T) {
	cases := []struct {
		name  string
		start func(testing.TB) *davtest.Server
		token string
		says  string
	}{
		{"radicale", davtest.StartRadicale, "http://radicale.org/ns/sync/" + fmt.Sprintf("%064d", 0), "valid-sync-token"},
		{"sabre unknown", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "digest") }, "bogus-token", "(valid-sync-token); the server says: Invalid or unknown sync token"},
		{"sabre restored", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "basic") }, "http://sabre.io/ns/sync/999", "the server's token went back from http://sabre.io/ns/sync/999"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			book := srv.MakeBook(t, "friends", "Friends")
			srv.PutCard(t, book+"a.vcf", davtest.Card("a", "A"))
			var logs bytes.Buffer
			s := newSource(t, srv, srv.URL+book, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
			first := read(t, s, "")
			c := s.decodeCursor(first.Cursor)
			for _, b := range c.Books {
				b.Token, b.CTag = tc.token, ""
			}
			raw, _ := jsonString(c)
			srv.PutCard(t, book+"b.vcf", davtest.Card("b", "B"))
			logs.Reset()
			snap := read(t, s, raw)
			if !snap.Full {
				t.Fatal("an invalid sync token did not lead to a full read")
			}
			if got := names(snap.Records); !slices.Equal(got, []string{"a.vcf=A", "b.vcf=B"}) {
				t.Errorf("full read after invalid token: %v", got)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.says) {
				t.Errorf("logged %q, want one line saying %q", lines, tc.says)
			}
			if next := read(t, s, snap.Cursor); next.Full || len(next.Records) != 0 {
				t.Errorf("the read after the resync was not an empty incremental one: Full=%v, %d records", next.Full, len(next.Records))
			}
		})
	}
}

func TestTargetFaults(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		ctx := context.Background()
		book := srv.MakeBook(t, "people", "People")
		px := davtest.NewProxy(t, srv.URL)
		tg := newTarget(t, srv, px.URL+book)
		c := mustCard(t, davtest.Card("ada", "Ada")).Card
		uids := 0

		for _, how := range []string{"unquoted", "weak"} {
			f := &davtest.Fault{ETags: how}
			px.AddFault(f)
			href := how + ".vcf"
			uids++
			c.SetValue("UID", fmt.Sprintf("ada-%d", uids))
			etag, err := tg.Put(ctx, href, c, "")
			if err != nil {
				t.Fatalf("%s etags: create: %v", how, err)
			}
			listed, err := tg.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if listed[href] != etag {
				t.Errorf("%s etags: List gives %s, Put gave %s", how, listed[href], etag)
			}
			if _, err := tg.Put(ctx, href, c, etag); err != nil {
				t.Errorf("%s etags: update with the ETag kith got: %v", how, err)
			}
			px.ClearFaults()
		}

		px.AddFault(&davtest.Fault{Status: 503})
		if _, err := tg.Put(ctx, "x.vcf", c, ""); err == nil || errors.Is(err, ksync.ErrConflict) {
			t.Errorf("Put through a 503: got %v, want a plain error", err)
		}
		if _, err := tg.List(ctx); err == nil {
			t.Error("List through a 503 succeeded")
		}
		px.ClearFaults()

		px.AddFault(&davtest.Fault{Match: davtest.IsKind("addressbook-multiget"), CorruptCard: true})
		if _, err := tg.Get(ctx, []string{"weak.vcf"}); err == nil {
			t.Error("Get of a corrupted card succeeded: kith could overwrite a card it did not see")
		}
		px.ClearFaults()
		got, err := tg.Get(ctx, []string{"weak.vcf", "unquoted.vcf"})
		if err != nil || len(got) != 2 {
			t.Errorf("Get after the fault: %d cards, %v", len(got), err)
		}
	})
}
