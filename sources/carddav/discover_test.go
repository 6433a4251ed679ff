package carddav

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"kith/internal/davtest"
)

func TestDiscovery(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		friends := srv.MakeBook(t, "friends", "Friends")
		work := srv.MakeBook(t, "work", "Work people")
		srv.PutCard(t, friends+"f.vcf", davtest.Card("f", "Fred"))
		srv.PutCard(t, work+"w.vcf", davtest.Card("w", "Wanda"))
		px := davtest.NewProxy(t, srv.URL)
		cases := []struct {
			name   string
			url    string
			filter []string
			want   []string
		}{
			{"server root", px.URL + "/", []string{"friends", "work"}, []string{"f.vcf=Fred", "w.vcf=Wanda"}},
			{"by display name", px.URL, []string{"Work people"}, []string{"w.vcf=Wanda"}},
			// A path that is no DAV resource: the well-known URL is tried,
			// and its redirect followed with PROPFIND kept.
			{"well-known", px.URL + "/no/such/path/", []string{"friends"}, []string{"f.vcf=Fred"}},
			{"collection", px.URL + work, nil, []string{"w.vcf=Wanda"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newSource(t, srv, tc.url, func(o *Options) { o.Addressbooks = tc.filter })
				snap := read(t, s, "")
				if got := names(snap.Records); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
		t.Run("unknown book", func(t *testing.T) {
			s := newSource(t, srv, px.URL, func(o *Options) { o.Addressbooks = []string{"Friends", "nope"} })
			_, err := s.Read(context.Background(), "")
			if err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
				t.Errorf("got %v, want an error naming the missing book", err)
			}
		})
	})
}

// TestDiscoveryHomeOnAnotherHost follows a principal whose home set is on
// another host, as iCloud's is.
func TestDiscoveryHomeOnAnotherHost(t *testing.T) {
	srv := davtest.StartRadicale(t)
	friends := srv.MakeBook(t, "friends", "Friends")
	srv.PutCard(t, friends+"f.vcf", davtest.Card("f", "Fred"))
	// "localhost" and "127.0.0.1" are different hosts to the client.
	home := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + srv.Home
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PROPFIND" {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprintf(w, `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:response><d:href>%s</d:href>`+
			`<d:propstat><d:prop><d:current-user-principal><d:href>/123/principal/</d:href></d:current-user-principal>`+
			`<c:addressbook-home-set><d:href>%s</d:href></c:addressbook-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`, r.URL.Path, home)
	}))
	t.Cleanup(front.Close)
	s := newSource(t, srv, front.URL+"/")
	snap := read(t, s, "")
	if got := names(snap.Records); !slices.Equal(got, []string{"f.vcf=Fred"}) {
		t.Errorf("got %v", got)
	}
}

func TestSameCollection(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"https://cloud.example.org/remote.php/dav/addressbooks/users/anna/kith/", "HTTPS://Cloud.Example.org:443/remote.php/dav/addressbooks/users/anna/kith", true},
		{"http://h/a%20b/", "http://h:80/a b", true},
		{"http://h/a/./b//", "http://h/a/b", true},
		{"http://h/a/", "https://h/a/", false},
		{"http://h:8080/a/", "http://h/a/", false},
		{"http://h/a/", "http://h/a/b/", false},
		{"not a url", "not a url", false},
	}
	for _, tc := range cases {
		if got := SameCollection(tc.a, tc.b); got != tc.same {
			t.Errorf("SameCollection(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// TestOwnBooksSkipped: books kith writes (a target's collection, the
// embedded server's book) are never read; when nothing else is left the
// source fails with a message that says so.
func TestOwnBooksSkipped(t *testing.T) {
	srv := davtest.StartSabre(t, "digest")
	friends := srv.MakeBook(t, "friends", "Friends")
	own := srv.MakeBook(t, "kith", "Merged")
	srv.PutCard(t, friends+"f.vcf", davtest.Card("f", "Fred"))
	srv.PutCard(t, own+"k.vcf", davtest.Card("k", "Kith's Fred"))
	exclude := []Excluded{{URL: strings.ToUpper(srv.URL[:4]) + srv.URL[4:] + own[:len(own)-1], Why: `the collection of target "merged"`}}
	cases := []struct {
		name    string
		url     string
		filter  []string
		want    []string
		wantErr string
	}{
		{"account", srv.URL + "/", nil, []string{"f.vcf=Fred"}, ""},
		{"only its own", srv.URL + own, nil, nil, `every address book found is kith's own, and kith never reads what it writes: ` + srv.URL + own + ` (the collection of target "merged")`},
		{"named in addressbooks", srv.URL + "/", []string{"Merged"}, nil, `addressbooks: "Merged" is kith's own (the collection of target "merged")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSource(t, srv, tc.url, func(o *Options) { o.Exclude, o.Addressbooks = exclude, tc.filter })
			snap, err := s.Read(context.Background(), "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Read: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(snap.Records); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			books := s.Books()
			if len(books) != 2 || books[0].Skipped != "" || books[1].Skipped != `kith's own: the collection of target "merged"` {
				t.Errorf("Books: %+v", books)
			}
		})
	}
}

// TestServedBookSkipped: a book whose sync-token is the embedded server's
// is skipped when the source is told the server's token prefix.
func TestServedBookSkipped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultiStatus)
		fmt.Fprintf(w, `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:response><D:href>%s</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:sync-token>http://kith.invalid/ns/sync/e-1</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`, r.URL.Path)
	}))
	defer srv.Close()
	s, err := NewSource(Options{Name: "dav", URL: srv.URL + "/dav/anna/contacts/people/", ExcludeTokenPrefix: "http://kith.invalid/ns/sync/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "served by kith's embedded server") {
		t.Errorf("Read: %v", err)
	}
}
