package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"kith/internal/davtest"
	"kith/internal/state"
	"kith/sync/card"
)

// TestRandomRoundsLoseNothing runs many rounds of random source changes,
// random edits and deletes by the user on the target, and random server
// faults, against a real Radicale behind a fault-injecting proxy. At the end
// every note line the user wrote is still on the person's card, no person is
// there twice, and a person the user deleted stays deleted.
func TestRandomRoundsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("real server, many rounds")
	}
	srv := davtest.StartRadicale(t)
	srcBook := srv.MakeBook(t, "phone", "Phone")
	dstBook := srv.MakeBook(t, "people", "People")
	proxy := davtest.NewProxy(t, srv.URL)

	dir := t.TempDir()
	cfg := davConfig(t, srv, proxy, srcBook, dstBook, dir)
	rng := rand.New(rand.NewPCG(7, 11))
	sync := func() bool {
		r, err := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(context.Background(), cfg.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sum, err := r.Sync(ctx, st)
		if err != nil {
			t.Logf("sync failed as a whole: %v", err)
			return false
		}
		if testing.Verbose() || !sum.Complete() {
			t.Logf("sync: %s", sum)
		}
		return sum.Complete()
	}

	// The world: people by number; each has one or two source cards (the
	// second, a duplicate with the same email, from another export).
	type person struct {
		cards   []string // source card paths
		deleted bool     // deleted by the user on the target
		gone    bool     // removed from the source
	}
	people := map[int]*person{}
	next := 0
	addPerson := func() {
		i := next
		next++
		p := &person{}
		n := 1 + rng.IntN(2)
		for j := 0; j < n; j++ {
			path := fmt.Sprintf("%sp%d-%d.vcf", srcBook, i, j)
			srv.PutCard(t, path, davtest.Card(fmt.Sprintf("p%d-%d", i, j), fmt.Sprintf("Person%d Example", i),
				fmt.Sprintf("EMAIL:p%d@example.org", i), fmt.Sprintf("NOTE:2026-01-0%d source line %d", 1+j, i)))
			p.cards = append(p.cards, path)
		}
		people[i] = p
	}
	for i := 0; i < 8; i++ {
		addPerson()
	}
	userLines := map[int][]string{} // person → note lines the user wrote on the target

	targetCards := func() map[string]string { return radicaleCards(srv, dstBook) }
	personOf := regexp.MustCompile(`p(\d+)@example\.org`)

	faults := []davtest.Fault{
		{Status: http.StatusServiceUnavailable, Times: 1},
		{Status: http.StatusServiceUnavailable, Match: davtest.IsKind("PUT"), Times: 2},
		{CutBody: true, Match: davtest.IsKind("addressbook-multiget"), Times: 1},
		{CutBody: true, Match: davtest.IsKind("sync-collection"), Times: 1},
		{InvalidToken: true, Times: 1},
		{ETags: "weak"},
	}
	sync()
	for round := 0; round < 40; round++ {
		// The sources change.
		switch rng.IntN(4) {
		case 0:
			addPerson()
		case 1:
			for i, p := range people {
				if !p.gone && len(p.cards) > 0 {
					srv.PutCard(t, p.cards[0], davtest.Card(fmt.Sprintf("p%d-0", i), fmt.Sprintf("Person%d Example", i),
						fmt.Sprintf("EMAIL:p%d@example.org", i), fmt.Sprintf("TEL:+49 30 %07d", round*100+i),
						fmt.Sprintf("NOTE:2026-01-01 source line %d\\n2026-02-%02d source update %d", i, 1+round, round)))
					break
				}
			}
		case 2:
			for i, p := range people {
				if !p.gone && rng.IntN(3) == 0 {
					for _, c := range p.cards {
						srv.DeleteCard(t, c)
					}
					p.gone = true
					delete(userLines, i)
					break
				}
			}
		}
		// The user edits or deletes cards on the target.
		for name, body := range targetCards() {
			m := personOf.FindStringSubmatch(body)
			if m == nil || rng.IntN(4) != 0 {
				continue
			}
			var i int
			fmt.Sscan(m[1], &i)
			path := dstBook + name
			if rng.IntN(6) == 0 {
				code, _, _ := srv.Do(t, "DELETE", path, nil, "")
				if code/100 == 2 {
					people[i].deleted = true
					delete(userLines, i)
				}
				continue
			}
			line := fmt.Sprintf("2026-11-%02d user line %d-%d", 1+round%28, i, round)
			code, etag, got := srv.Do(t, "GET", path, nil, "")
			if code != 200 {
				continue
			}
			c, err := card.Decode([]byte(got))
			if err != nil {
				t.Fatalf("target card %s unreadable: %v", name, err)
			}
			note := card.Text(c.Value("NOTE"))
			c.SetValue("NOTE", card.EscapeText(strings.TrimSpace(note+"\n"+line)))
			code, _, _ = srv.Do(t, "PUT", path, http.Header{"If-Match": {etag}, "Content-Type": {"text/vcard"}}, string(card.EncodeBytes(c)))
			if code/100 == 2 {
				userLines[i] = append(userLines[i], line)
			}
		}
		// Something goes wrong on the way, sometimes.
		if rng.IntN(2) == 0 {
			f := faults[rng.IntN(len(faults))]
			proxy.AddFault(&f)
		}
		sync()
		proxy.ClearFaults()
	}
	// Faults off: the next complete syncs settle everything.
	complete := 0
	for try := 0; try < 6 && complete < 2; try++ {
		if sync() {
			complete++
		}
	}
	if complete < 2 {
		t.Fatal("no two complete syncs after the faults stopped")
	}

	seen := map[int]int{}
	for name, body := range targetCards() {
		m := personOf.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("target card %s belongs to nobody", name)
			continue
		}
		var i int
		fmt.Sscan(m[1], &i)
		seen[i]++
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatalf("target card %s unreadable: %v", name, err)
		}
		note := card.Text(c.Value("NOTE"))
		for _, l := range userLines[i] {
			if !strings.Contains(note, l) {
				t.Errorf("person %d: the user's line %q is lost; note:\n%s", i, l, note)
			}
		}
	}
	for i, p := range people {
		switch {
		case p.deleted && seen[i] > 0:
			t.Errorf("person %d was deleted by the user and is back (%d cards)", i, seen[i])
		case p.gone && seen[i] > 0 && len(userLines[i]) == 0:
			t.Errorf("person %d left every source and is still on the target", i)
		case !p.deleted && !p.gone && seen[i] != 1:
			t.Errorf("person %d is on the target %d times, want once", i, seen[i])
		}
	}
	gone, deleted := 0, 0
	for _, p := range people {
		if p.gone {
			gone++
		}
		if p.deleted {
			deleted++
		}
	}
	t.Logf("%d people (%d left the source, %d deleted by the user), %d user lines kept, %d target cards",
		len(people), gone, deleted, len(userLines), len(targetCards()))
}

// A contact that left its sources is removed from a CardDAV target even
// when the server spells its ETag another way that sync (weak, W/"…"): only
// a real edit of the card keeps it.
func TestRemovedContactGoesDespiteRespelledETag(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srcBook := srv.MakeBook(t, "phone", "Phone")
	dstBook := srv.MakeBook(t, "people", "People")
	proxy := davtest.NewProxy(t, srv.URL)
	cfg := davConfig(t, srv, proxy, srcBook, dstBook, t.TempDir())
	srv.PutCard(t, srcBook+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org"))
	srv.PutCard(t, srcBook+"b.vcf", davtest.Card("b", "Ben Example", "EMAIL:ben@example.org"))
	if sum := syncAt(t, cfg, fixedNow); sum.Created != 2 {
		t.Fatalf("first sync: %s", sum)
	}
	srv.DeleteCard(t, srcBook+"b.vcf")
	proxy.AddFault(&davtest.Fault{ETags: "weak"})
	sum := syncAt(t, cfg, fixedNow)
	if sum.Removed != 1 {
		t.Errorf("Ben left the source but his card stayed (%s)", sum)
	}
	for name, body := range radicaleCards(srv, dstBook) {
		if strings.Contains(body, "Ben Example") {
			t.Errorf("Ben's card %s is still on the target", name)
		}
	}
}

// davConfig syncs the CardDAV book srcBook into the book dstBook of srv,
// both through proxy, with the state in dir.
func davConfig(t *testing.T, srv *davtest.Server, proxy *davtest.Proxy, srcBook, dstBook, dir string) *Config {
	t.Helper()
	t.Setenv("KITH_TEST_DAV_PW", srv.Password)
	cfg, err := ParseConfig([]byte(fmt.Sprintf(`state_dir = "state"
default_region = "DE"
[[source]]
name = "phone"
kind = "carddav"
url = %q
username = %q
password_env = "KITH_TEST_DAV_PW"
[[target]]
name = "people"
kind = "carddav"
url = %q
username = %q
password_env = "KITH_TEST_DAV_PW"
`, proxy.URL+srcBook, srv.Username, proxy.URL+dstBook, srv.Username)), dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
