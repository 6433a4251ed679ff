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
