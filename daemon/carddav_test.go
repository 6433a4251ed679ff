package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/internal/davtest"
	"kith/internal/state"
)

// davServers are the real CardDAV servers the account-level tests run
// against: sabre/dav (Nextcloud's and Baikal's engine) with Basic and with
// Digest logins, Radicale and Xandikos.
var davServers = []struct {
	name  string
	start func(testing.TB) *davtest.Server
}{
	{"sabre", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "basic") }},
	{"sabre-digest", func(t testing.TB) *davtest.Server { return davtest.StartSabre(t, "digest") }},
	{"radicale", davtest.StartRadicale},
	{"xandikos", davtest.StartXandikos},
}

// accountConfig reads every book of srv's account (the URL a user types:
// the server itself) and writes to the book "kith" on the same account;
// extra is added to the config's text. It returns the config and the path
// of its file.
func accountConfig(t *testing.T, srv *davtest.Server, dir string, extra ...string) (*Config, string) {
	t.Helper()
	t.Setenv("KITH_TEST_DAV_PW", srv.Password)
	path := filepath.Join(dir, "kith.toml")
	text := fmt.Sprintf(`state_dir = "state"
default_region = "DE"
[[source]]
name = "cloud"
kind = "carddav"
url = %q
username = %q
password_env = "KITH_TEST_DAV_PW"
[[target]]
name = "merged"
kind = "carddav"
url = %q
username = %q
password_env = "KITH_TEST_DAV_PW"
`, srv.URL+"/", srv.Username, srv.URL+srv.Home+"kith/", srv.Username) + strings.Join(extra, "")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// targetCards returns the FN lines of the cards in the book at path.
func targetCards(t *testing.T, srv *davtest.Server, path string) []string {
	t.Helper()
	code, _, body := srv.Do(t, "REPORT", path, http.Header{"Depth": {"1"}, "Content-Type": {"application/xml"}},
		`<?xml version="1.0"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data/></D:prop></C:addressbook-query>`)
	if code != http.StatusMultiStatus {
		t.Fatalf("REPORT %s: %d %s", path, code, body)
	}
	var fns []string
	for _, l := range strings.Split(strings.ReplaceAll(body, "&#13;", ""), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "FN:") {
			fns = append(fns, l)
		}
	}
	return fns
}

// TestAccountSourceNeverReadsItsTarget: a source given the server's URL
// finds every book of the account, the target's among them; it skips the
// target's, so a card deleted from its real source leaves the target in
// one sync, and kith's merged cards never come back as records.
func TestAccountSourceNeverReadsItsTarget(t *testing.T) {
	for _, s := range davServers {
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t)
			book := srv.MakeBook(t, "friends", "Friends")
			// The target's book exists from the start (made by the user, or
			// by kith's first run), so the source finds it at once.
			srv.MakeBook(t, "kith", "kith")
			srv.PutCard(t, book+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org"))
			srv.PutCard(t, book+"b.vcf", davtest.Card("b", "Ben Example", "EMAIL:ben@example.org"))
			// A vCard 4.0 card: sabre serves it as 3.0, rewritten its own way.
			srv.PutCard(t, book+"c.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c\r\nFN:Cat Example\r\nN:Example;Cat;;;\r\nBDAY:--0412\r\nEMAIL;TYPE=home:cat@example.org\r\nEND:VCARD\r\n")
			cfg, path := accountConfig(t, srv, t.TempDir())

			if sum := syncAt(t, cfg, fixedNow); sum.Created != 3 || sum.Records != 3 || !sum.Complete() {
				t.Fatalf("first sync: %s", sum)
			}
			// The target now holds kith's cards; the next syncs must not
			// read them (3 records, not 6), nor change anything.
			for i := range 2 {
				sum := syncAt(t, cfg, fixedNow)
				if sum.Records != 3 || sum.Created+sum.Updated+sum.Removed != 0 || !sum.Complete() {
					t.Errorf("sync %d after the first: %s", i+2, sum)
				}
			}
			srv.DeleteCard(t, book+"b.vcf")
			if sum := syncAt(t, cfg, fixedNow); sum.Removed != 1 || sum.Records != 2 {
				t.Errorf("after Ben's card was deleted: %s", sum)
			}
			got := strings.Join(targetCards(t, srv, srv.Home+"kith/"), " | ")
			if strings.Contains(got, "Ben") || !strings.Contains(got, "Ann Example") || !strings.Contains(got, "Cat Example") {
				t.Errorf("target holds %s", got)
			}

			var out bytes.Buffer
			err := Check(context.Background(), path, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Errorf("check: %v\n%s", err, out.String())
			}
			for _, want := range []string{
				fmt.Sprintf(`source "cloud" (carddav %s/): 2 cards`, srv.URL),
				fmt.Sprintf(`  reads %s%s`, srv.URL, book),
				fmt.Sprintf(`  skips %s%skith/`, srv.URL, srv.Home),
				`kith's own: the collection of target "merged"`,
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("check does not say %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestNoChangeSyncAsksOnlyCtags: once kith has listed its CardDAV target
// and read its source books, a sync in which nothing changed (each in a
// new Runner, as `kith --once` is) asks each collection its getctag and
// nothing else, one after another (Radicale answers probes asked at once
// several times slower); each probe is slowed by the proxy, so that two
// asked at once would overlap.
func TestNoChangeSyncAsksOnlyCtags(t *testing.T) {
	for _, s := range davServers {
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t)
			for _, b := range []string{"friends", "work"} {
				book := srv.MakeBook(t, b, b)
				srv.PutCard(t, book+"a.vcf", davtest.Card(b+"a", "Ann "+b, "EMAIL:ann@"+b+".example.org"))
			}
			px := davtest.NewProxy(t, srv.URL)
			proxied := *srv
			proxied.URL = px.URL
			cfg, _ := accountConfig(t, &proxied, t.TempDir())
			for i := range 3 {
				if sum := syncAt(t, cfg, fixedNow); !sum.Complete() || (i > 0 && sum.Created+sum.Updated+sum.Removed > 0) {
					t.Fatalf("sync %d: %s", i+1, sum)
				}
			}
			px.Reset()
			px.AddFault(&davtest.Fault{Match: davtest.IsKind("PROPFIND depth 0"), Delay: 100 * time.Millisecond})
			db := filepath.Join(cfg.StateDir, state.FileName)
			before := fileDigest(t, db)
			if sum := syncAt(t, cfg, fixedNow); !sum.Complete() || sum.Created+sum.Updated+sum.Removed > 0 {
				t.Fatalf("no-change sync: %s", sum)
			}
			// Nothing moved, not even a cursor: nothing is written (a home
			// server's disk is not woken, nor worn, every few minutes).
			if fileDigest(t, db) != before {
				t.Error("a no-change sync wrote to the state database")
			}
			if n := px.MaxHeld("PROPFIND depth 0"); n != 1 {
				t.Errorf("no-change sync had %d probes at the server at once, want 1", n)
			}
			// Each collection once; with Digest a new process meets each
			// first request's challenge once more.
			per := 1
			if srv.Auth == "digest" {
				per = 2
			}
			asked := map[string]int{}
			for _, r := range px.Requests() {
				asked[r.Path]++
				if r.Kind != "PROPFIND depth 0" {
					t.Errorf("no-change sync sent %s %s", r.Kind, r.Path)
				}
			}
			for p, n := range asked {
				if n > per {
					t.Errorf("no-change sync asked %s %d times", p, n)
				}
			}
			if asked[srv.Home+"kith/"] == 0 || len(asked) < 3 {
				t.Errorf("no-change sync asked %v", asked)
			}
		})
	}
}

// TestFailedTargetListingAskedOnce: a target whose listing fails is asked
// once a sync, not once more when its cards would be written.
func TestFailedTargetListingAskedOnce(t *testing.T) {
	srv := davtest.StartRadicale(t)
	book := srv.MakeBook(t, "friends", "Friends")
	srv.PutCard(t, book+"a.vcf", davtest.Card("a", "Ann Example"))
	px := davtest.NewProxy(t, srv.URL)
	proxied := *srv
	proxied.URL = px.URL
	cfg, _ := accountConfig(t, &proxied, t.TempDir())
	target := srv.Home + "kith/"
	px.AddFault(&davtest.Fault{Match: func(r davtest.Request) bool { return r.Path == target }, Status: http.StatusServiceUnavailable})
	sum := syncAt(t, cfg, fixedNow)
	if sum.Complete() {
		t.Fatalf("sync with a failing target: %s", sum)
	}
	n := 0
	for _, r := range px.Requests() {
		if r.Path == target {
			n++
		}
	}
	// One getctag, after the login challenge of a first run over http.
	if n > 2 {
		t.Errorf("the failing target was asked %d times: %v", n, px.Requests())
	}
}

// fileDigest returns a digest of the file's content.
func fileDigest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
