package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/davtest"
	"kith/internal/state"
	"kith/sync/card"
)

// userWrites adds, to a card's text, what a user types on a phone: a note
// line, a second number and a nickname.
func userWrites(t *testing.T, body string) []byte {
	t.Helper()
	c, err := card.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c.SetValue(vcard.FieldNote, card.EscapeText(strings.TrimSpace(card.Text(c.Value(vcard.FieldNote))+"\n2026-11-23 lunch, she moves to Lisbon")))
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: "+351 21 555 0100", Params: vcard.Params{"TYPE": {"CELL"}}})
	c.SetValue(vcard.FieldNickname, "Lou")
	return card.EncodeBytes(c)
}

// hasUserWrites reports what of userWrites the card text lacks.
func lacksUserWrites(body string) []string {
	var lacks []string
	for _, want := range []string{"2026-11-23 lunch", "+351 21 555 0100", "NICKNAME:Lou"} {
		if !strings.Contains(body, want) {
			lacks = append(lacks, want)
		}
	}
	return lacks
}

// restore runs kith restore query.
func restore(t *testing.T, cfg *Config, query string) string {
	t.Helper()
	var out bytes.Buffer
	withStore(t, cfg, func(st *state.Store) {
		if err := Restore(context.Background(), st, query, &out); err != nil {
			t.Fatalf("restore %s: %v", query, err)
		}
	})
	return out.String()
}

// leftIn returns the report's entry for the contact that left named name.
func leftIn(t *testing.T, cfg *Config, name string) (edited, found bool) {
	t.Helper()
	for _, l := range readReport(t, cfg).Left {
		if l.Name == name {
			return l.Edited, true
		}
	}
	return false, false
}

// What a user wrote on a merged card survives the contact leaving its only
// source: the card leaves the target, the report lists the contact, and
// kith restore brings it back with the user's words, whether or not a
// sync ran between the edit and the source's deletion.
func TestLeftContactRestoredWithUserEdits(t *testing.T) {
	for _, between := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync between edit and deletion: %v", between), func(t *testing.T) {
			cfg, dir := demoSetup(t)
			syncAt(t, cfg, fixedNow)
			merged := filepath.Join(dir, "merged")
			carol := fileWith(t, merged, "FN:Carol Miller")
			body, _ := os.ReadFile(carol)
			time.Sleep(10 * time.Millisecond)
			os.WriteFile(carol, userWrites(t, string(body)), 0o600)
			if between {
				if sum := syncAt(t, cfg, fixedNow); sum.UserEdits != 1 {
					t.Fatalf("the edit was not merged: %s", sum)
				}
			}
			if err := os.Remove(filepath.Join(dir, "addressbook/carol-miller.vcf")); err != nil {
				t.Fatal(err)
			}
			sum := syncAt(t, cfg, fixedNow)
			if _, err := os.Stat(carol); !os.IsNotExist(err) {
				t.Errorf("Carol's card stayed on the target after she left her source (%s)", sum)
			}
			if edited, found := leftIn(t, cfg, "Carol Miller"); !found || !edited {
				t.Errorf("the report lists Carol as left: %v, with the user's edits: %v", found, edited)
			}
			out := restore(t, cfg, "carol")
			if !strings.Contains(out, "Carol Miller") {
				t.Errorf("restore says %q", out)
			}
			if sum := syncAt(t, cfg, fixedNow); sum.Created != 1 {
				t.Errorf("the sync after restore: %s, want Carol's card written", sum)
			}
			back, err := os.ReadFile(carol)
			if err != nil {
				t.Fatalf("Carol is not back at her card's place: %v", err)
			}
			if lacks := lacksUserWrites(string(back)); len(lacks) > 0 {
				t.Errorf("Carol is back without %q:\n%s", lacks, back)
			}
			if _, found := leftIn(t, cfg, "Carol Miller"); found {
				t.Error("the report still lists Carol as left after she came back")
			}
			if sum := syncAt(t, cfg, fixedNow); sum.Created+sum.Updated+sum.Removed != 0 {
				t.Errorf("the sync after that changed things: %s", sum)
			}
		})
	}
}

// The same against a CardDAV server (Radicale), the source and the target
// books on it.
func TestLeftContactRestoredWithUserEditsCardDAV(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srcBook := srv.MakeBook(t, "phone", "Phone")
	dstBook := srv.MakeBook(t, "people", "People")
	proxy := davtest.NewProxy(t, srv.URL)
	cfg := davConfig(t, srv, proxy, srcBook, dstBook, t.TempDir())
	srv.PutCard(t, srcBook+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org", "NOTE:2026-01-02 met at the fair"))
	srv.PutCard(t, srcBook+"b.vcf", davtest.Card("b", "Ben Example", "EMAIL:ben@example.org"))
	syncAt(t, cfg, fixedNow)
	href := editOnRadicale(t, srv, dstBook, "Ann Example", func(body string) []byte { return userWrites(t, body) })
	syncAt(t, cfg, fixedNow)
	srv.DeleteCard(t, srcBook+"a.vcf")
	syncAt(t, cfg, fixedNow)
	if _, ok := radicaleCards(srv, dstBook)[href]; ok {
		t.Error("Ann's card stayed on the target after she left her source")
	}
	if edited, found := leftIn(t, cfg, "Ann Example"); !found || !edited {
		t.Errorf("the report lists Ann as left: %v, with the user's edits: %v", found, edited)
	}
	restore(t, cfg, "ann")
	syncAt(t, cfg, fixedNow)
	back, ok := radicaleCards(srv, dstBook)[href]
	if !ok {
		t.Fatal("Ann is not back after kith restore")
	}
	if lacks := lacksUserWrites(back); len(lacks) > 0 || !strings.Contains(back, "met at the fair") {
		t.Errorf("Ann is back without %q (or the source's line):\n%s", lacks, back)
	}
}

// editOnRadicale makes a user's edit of the card of book whose text holds
// name (edit gets the card's text, returns the new one), written with
// If-Match, and returns the card's href.
func editOnRadicale(t *testing.T, srv *davtest.Server, book, name string, edit func(body string) []byte) string {
	t.Helper()
	href := ""
	for h, body := range radicaleCards(srv, book) {
		if strings.Contains(body, name) {
			href = h
		}
	}
	code, etag, body := srv.Do(t, "GET", book+href, nil, "")
	if code != 200 {
		t.Fatalf("GET %s%s: %d", book, href, code)
	}
	if code, _, _ := srv.Do(t, "PUT", book+href, http.Header{"If-Match": {etag}, "Content-Type": {"text/vcard"}}, string(edit(body))); code/100 != 2 {
		t.Fatalf("the user's edit of %s: %d", href, code)
	}
	return href
}

// radicaleCards returns the cards of book straight from Radicale's storage.
func radicaleCards(srv *davtest.Server, book string) map[string]string {
	out := map[string]string{}
	d := filepath.Join(srv.Dir, "collection-root", filepath.FromSlash(book))
	ents, _ := os.ReadDir(d)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".vcf") {
			b, _ := os.ReadFile(filepath.Join(d, e.Name()))
			out[e.Name()] = string(b)
		}
	}
	return out
}

// A contact that left its sources and comes back through them (its file
// put back, with a change the source made meanwhile) gets back what the
// user wrote on its card, on every target, and keeps it; the left row goes
// only once every target holds it. One target is unwritable when it comes
// back: it gets the words a sync later.
func TestReturningContactKeepsUserWords(t *testing.T) {
	cfg, dir, backup := demoWithBackup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	carol := fileWith(t, merged, "FN:Carol Miller")
	body, _ := os.ReadFile(carol)
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(carol, userWrites(t, string(body)), 0o600)
	if sum := syncAt(t, cfg, fixedNow); sum.UserEdits != 1 {
		t.Fatalf("the edit was not merged: %s", sum)
	}
	src := filepath.Join(dir, "addressbook/carol-miller.vcf")
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(src)
	syncAt(t, cfg, fixedNow)
	if _, err := os.Stat(carol); !os.IsNotExist(err) {
		t.Fatal("Carol's card stayed after she left her source")
	}

	// Back in her source, with an address the source learnt meanwhile;
	// backup cannot be written this time.
	again := strings.Replace(string(orig), "END:VCARD", "EMAIL;TYPE=HOME:carol.back@example.org\r\nEND:VCARD", 1)
	if err := os.WriteFile(src, []byte(again), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := syncWith(t, cfg, func(r *Runner, _ *state.Store) {
		for i, tg := range r.targets {
			if tg.Name() == "backup" {
				r.targets[i] = readOnlyTarget{tg}
			}
		}
	})
	if sum.Created != 1 {
		t.Errorf("Carol's return: %s; want her card made on merged", sum)
	}
	check := func(folder string) {
		t.Helper()
		back, err := os.ReadFile(filepath.Join(folder, filepath.Base(carol)))
		if err != nil {
			t.Fatalf("Carol is not back in %s: %v", folder, err)
		}
		if lacks := lacksUserWrites(string(back)); len(lacks) > 0 || !strings.Contains(string(back), "carol.back@example.org") {
			t.Errorf("Carol is back in %s without %q (or the source's new address):\n%s", folder, lacks, back)
		}
	}
	check(merged)
	if _, found := leftIn(t, cfg, "Carol Miller"); found {
		t.Error("the report lists Carol as left while she is back")
	}
	withStore(t, cfg, func(st *state.Store) {
		if err := Restore(context.Background(), st, "carol", io.Discard); err == nil || !strings.Contains(err.Error(), "is back in its sources") {
			t.Errorf("kith restore of Carol while she is back: %v", err)
		}
	})
	// backup writable again: it gets her card with the words too.
	if sum := syncAt(t, cfg, fixedNow); sum.Created != 1 {
		t.Errorf("the sync after: %s; want Carol's card made on backup", sum)
	}
	check(merged)
	check(backup)
	withStore(t, cfg, func(st *state.Store) {
		s, err := st.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Left) != 0 {
			t.Errorf("left_contacts still holds %d rows once Carol's words are on every target", len(s.Left))
		}
	})
	if sum := syncAt(t, cfg, fixedNow); sum.Created+sum.Updated+sum.Removed != 0 {
		t.Errorf("the sync after that changed things: %s", sum)
	}
	check(merged)
	check(backup)
}
