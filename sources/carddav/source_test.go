package carddav

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kith/internal/davtest"
	ksync "kith/sync"
	"kith/sync/card"
)

// servers are the real servers every test runs against.
var servers = []struct {
	name  string
	start func(testing.TB) *davtest.Server
}{
	{"radicale", davtest.StartRadicale},
	{"xandikos", davtest.StartXandikos},
	{"sabre", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "basic") }},
	{"sabre-digest", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "digest") }},
}

func forEachServer(t *testing.T, fn func(t *testing.T, srv *davtest.Server)) {
	for _, s := range servers {
		// Not parallel: the servers are processes of their own, and on a
		// small machine running them side by side is slower.
		t.Run(s.name, func(t *testing.T) {
			fn(t, s.start(t))
		})
	}
}

func newSource(t *testing.T, srv *davtest.Server, url string, mod ...func(*Options)) *Source {
	t.Helper()
	o := Options{Name: "dav", URL: url, Username: srv.Username, Password: srv.Password, BatchSize: 3}
	for _, m := range mod {
		m(&o)
	}
	s, err := NewSource(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func read(t *testing.T, s *Source, cursor string) ksync.Snapshot {
	t.Helper()
	snap, err := s.Read(context.Background(), cursor)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return snap
}

// names returns "ID=FN" for each record, sorted.
func names(recs []ksync.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID[strings.LastIndex(r.ID, "/")+1:]+"="+card.Text(r.Card.PreferredValue("FN")))
	}
	slices.Sort(out)
	return out
}

func base(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id[strings.LastIndex(id, "/")+1:])
	}
	slices.Sort(out)
	return out
}

func TestSourceIncremental(t *testing.T) {
	for _, hideSync := range []bool{false, true} {
		mode := "sync-collection"
		if hideSync {
			mode = "ctag"
		}
		t.Run(mode, func(t *testing.T) {
			forEachServer(t, func(t *testing.T, srv *davtest.Server) {
				book := srv.MakeBook(t, "friends", "Friends")
				for i := range 5 {
					srv.PutCard(t, fmt.Sprintf("%sc%d.vcf", book, i), davtest.Card(fmt.Sprintf("u%d", i), fmt.Sprintf("Person %d", i)))
				}
				px := davtest.NewProxy(t, srv.URL)
				if hideSync {
					px.AddFault(&davtest.Fault{HideSync: true})
				}
				s := newSource(t, srv, px.URL+book)

				first := read(t, s, "")
				if !first.Full || len(first.Problems) > 0 {
					t.Fatalf("first read: Full=%v problems=%v", first.Full, first.Problems)
				}
				want := []string{"c0.vcf=Person 0", "c1.vcf=Person 1", "c2.vcf=Person 2", "c3.vcf=Person 3", "c4.vcf=Person 4"}
				if got := names(first.Records); !slices.Equal(got, want) {
					t.Fatalf("first read: got %v, want %v", got, want)
				}
				if n := px.Count("addressbook-multiget"); n != 2 {
					t.Errorf("first read: %d multigets for 5 cards in batches of 3, want 2", n)
				}

				// Nothing changed: one cheap request for the book.
				px.Reset()
				same := read(t, s, first.Cursor)
				if same.Full || len(same.Records)+len(same.Deleted) != 0 {
					t.Fatalf("no-change read: Full=%v records=%v deleted=%v", same.Full, names(same.Records), same.Deleted)
				}
				if reqs := px.Requests(); len(reqs) != 1 {
					t.Errorf("no-change read made %d requests, want 1: %v", len(reqs), reqs)
				}

				// Add one, change one, delete one: only those are fetched.
				srv.PutCard(t, book+"c5.vcf", davtest.Card("u5", "Person 5"))
				srv.PutCard(t, book+"c1.vcf", davtest.Card("u1", "Person One"))
				srv.DeleteCard(t, book+"c2.vcf")
				px.Reset()
				changed := read(t, s, same.Cursor)
				if changed.Full {
					t.Fatal("incremental read returned Full")
				}
				if got, want := names(changed.Records), []string{"c1.vcf=Person One", "c5.vcf=Person 5"}; !slices.Equal(got, want) {
					t.Errorf("changed records: got %v, want %v", got, want)
				}
				if got := base(changed.Deleted); !slices.Equal(got, []string{"c2.vcf"}) {
					t.Errorf("deleted: got %v, want [c2.vcf]", got)
				}
				fetched := 0
				for _, r := range px.Requests() {
					fetched += r.Hrefs
					if r.Method == "GET" {
						fetched++
					}
				}
				if fetched != 2 {
					t.Errorf("fetched %d cards, want 2: %v", fetched, px.Requests())
				}
				again := read(t, s, changed.Cursor)
				if len(again.Records)+len(again.Deleted) != 0 {
					t.Errorf("read after changes: records=%v deleted=%v", names(again.Records), again.Deleted)
				}
			})
		})
	}
}

// TestFirstReadAsksNoCtagTwice: the first read takes each book's ctag from
// discovery, and asks it no second time.
func TestFirstReadAsksNoCtagTwice(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		book := srv.MakeBook(t, "friends", "Friends")
		srv.PutCard(t, book+"a.vcf", davtest.Card("a", "Ann"))
		px := davtest.NewProxy(t, srv.URL)
		s := newSource(t, srv, px.URL+"/", func(o *Options) { o.Addressbooks = []string{"friends"} })
		read(t, s, "")
		for _, r := range px.Requests() {
			if r.Path == book && r.Kind == "PROPFIND depth 0" {
				t.Errorf("the book was asked its props again: %v", px.Requests())
			}
		}
	})
}
