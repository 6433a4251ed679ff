package carddav

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"kith/internal/davtest"
	ksync "kith/sync"
	"kith/sync/card"
)

func newTarget(t *testing.T, srv *davtest.Server, url string) *Target {
	t.Helper()
	tg, err := NewTarget(Options{Name: "people", URL: url, Username: srv.Username, Password: srv.Password, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func mustCard(t *testing.T, vcf string) ksync.Entry {
	t.Helper()
	c, err := card.Decode([]byte(vcf))
	if err != nil {
		t.Fatal(err)
	}
	return ksync.Entry{Card: c}
}

func TestTargetConditionalWrites(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		ctx := context.Background()
		if srv.Kind == "radicale" {
			srv.Do(t, "PROPFIND", srv.Home, nil, "") // makes the principal
		}
		coll := srv.Home + "people/"
		tg := newTarget(t, srv, srv.URL+coll)

		// A missing collection lists as empty and is made by the first Put.
		got, err := tg.List(ctx)
		if err != nil || len(got) != 0 {
			t.Fatalf("List of a missing collection: %v, %v", got, err)
		}
		ada := mustCard(t, davtest.Card("ada", "Ada Lovelace", "NOTE:first line\\nsecond; line"))
		etag, err := tg.Put(ctx, "ada.vcf", ada.Card, "")
		if err != nil {
			t.Fatalf("creating: %v", err)
		}
		if !strings.HasPrefix(etag, `"`) && !strings.HasPrefix(etag, `W/"`) {
			t.Errorf("ETag %s is not quoted", etag)
		}
		if _, _, body := srv.Do(t, "PROPFIND", coll, http.Header{"Depth": {"0"}, "Content-Type": {"application/xml"}}, `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`); !strings.Contains(body, DefaultDisplayName+"<") {
			t.Errorf("the collection made has no display name %q: %s", DefaultDisplayName, body)
		}
		if _, err := tg.Put(ctx, "ada.vcf", ada.Card, ""); !errors.Is(err, ksync.ErrConflict) {
			t.Errorf("creating over an existing card: got %v, want ErrConflict", err)
		}
		listed, err := tg.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed["ada.vcf"] != etag {
			t.Fatalf("List = %v, want ada.vcf → %s", listed, etag)
		}
		entries, err := tg.Get(ctx, []string{"ada.vcf", "gone.vcf"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries["ada.vcf"].ETag != etag {
			t.Fatalf("Get = %v, want only ada.vcf with ETag %s", entries, etag)
		}
		if note := entries["ada.vcf"].Card.PreferredValue("NOTE"); note != `first line\nsecond; line` && note != `first line\nsecond\; line` {
			t.Errorf("NOTE came back as %q", note)
		}

		// Update with the current ETag; a stale one is a conflict.
		ada.Card.SetValue("FN", "Ada King")
		etag2, err := tg.Put(ctx, "ada.vcf", ada.Card, etag)
		if err != nil {
			t.Fatalf("updating: %v", err)
		}
		if etag2 == etag {
			t.Errorf("ETag did not change on update")
		}
		if _, err := tg.Put(ctx, "ada.vcf", ada.Card, etag); !errors.Is(err, ksync.ErrConflict) {
			t.Errorf("update with a stale ETag: got %v, want ErrConflict", err)
		}

		// Another writer changes the card between List and Put.
		listed, _ = tg.List(ctx)
		srv.PutCard(t, coll+"ada.vcf", davtest.Card("ada", "Ada (edited on the phone)"))
		ada.Card.SetValue("FN", "Ada by kith")
		if _, err := tg.Put(ctx, "ada.vcf", ada.Card, listed["ada.vcf"]); !errors.Is(err, ksync.ErrConflict) {
			t.Fatalf("Put after another writer: got %v, want ErrConflict", err)
		}
		entries, _ = tg.Get(ctx, []string{"ada.vcf"})
		if fn := entries["ada.vcf"].Card.PreferredValue("FN"); fn != "Ada (edited on the phone)" {
			t.Errorf("the other writer's edit was lost: FN = %q", fn)
		}

		// Delete is conditional too: without an ETag nothing is sent (a
		// DELETE without If-Match would remove the phone's edit).
		if err := tg.Delete(ctx, "ada.vcf", ""); err == nil {
			t.Error("Delete without an ETag succeeded, want an error")
		}
		if entries, _ := tg.Get(ctx, []string{"ada.vcf"}); entries["ada.vcf"].Card == nil {
			t.Fatal("Delete without an ETag removed the card the phone edited")
		}
		if err := tg.Delete(ctx, "ada.vcf", etag2); !errors.Is(err, ksync.ErrConflict) {
			t.Errorf("Delete with a stale ETag: got %v, want ErrConflict", err)
		}
		if err := tg.Delete(ctx, "ada.vcf", entries["ada.vcf"].ETag); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if listed, _ := tg.List(ctx); len(listed) != 0 {
			t.Errorf("after Delete, List = %v", listed)
		}
		if err := tg.Delete(ctx, "ada.vcf", entries["ada.vcf"].ETag); err != nil {
			t.Errorf("Delete of a card already gone: %v", err)
		}
	})
}

// TestTargetRoundTrip checks that what kith writes reads back with the
// same content hash, so a sync without changes writes nothing.
func TestTargetRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		ctx := context.Background()
		tg := newTarget(t, srv, srv.URL+srv.MakeBook(t, "people", "People"))
		cards := map[string]string{
			"plain.vcf":   davtest.Card("plain", "Plain Person"),
			"escapes.vcf": davtest.Card("escapes", `Smith\, John`, `NOTE:a\;b\,c\\d\nline two`, "CATEGORIES:friends,work", `ADR;TYPE=HOME:;;1 Main St\, Apt 2;Town;;12345;UK`),
			"long.vcf":    davtest.Card("long", "Long Note", "NOTE:"+strings.Repeat("ünïcödé text ", 30), "item1.EMAIL;TYPE=INTERNET:a@example.org", "item1.X-ABLabel:private"),
		}
		want := map[string]string{}
		for href, vcf := range cards {
			e := mustCard(t, vcf)
			if _, err := tg.Put(ctx, href, e.Card, ""); err != nil {
				t.Fatalf("%s: %v", href, err)
			}
			want[href] = card.Hash(card.ToV3(e.Card))
		}
		hrefs := []string{"plain.vcf", "escapes.vcf", "long.vcf"}
		got, err := tg.Get(ctx, hrefs)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hrefs {
			if card.Hash(got[h].Card) != want[h] {
				t.Errorf("%s: read back differently:\n%s", h, card.EncodeBytes(got[h].Card))
			}
		}
	})
}

// TestTargetListsByCtag: a target lists its collection in full once; then
// a collection nobody changed costs one getctag, one that changed costs a
// sync-collection of the changes (where the server has it), and the
// listing is the same as a full one would be. The cursor carries this to
// a Target of the next process.
func TestTargetListsByCtag(t *testing.T) {
	forEachServer(t, func(t *testing.T, srv *davtest.Server) {
		ctx := context.Background()
		coll := srv.MakeBook(t, "people", "People")
		srv.PutCard(t, coll+"a.vcf", davtest.Card("a", "Ann"))
		srv.PutCard(t, coll+"b.vcf", davtest.Card("b", "Ben"))
		px := davtest.NewProxy(t, srv.URL)
		tg := newTarget(t, srv, px.URL+coll)
		full := func() map[string]string {
			t.Helper()
			l, err := newTarget(t, srv, srv.URL+coll).listAll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		list := func(tg *Target, what string, wantFull bool) {
			t.Helper()
			px.Reset()
			got, err := tg.List(ctx)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if want := full(); !maps.Equal(got, want) {
				t.Errorf("%s: listing %v, want %v", what, got, want)
			}
			if n := px.Count("PROPFIND depth 1"); (n > 0) != wantFull {
				t.Errorf("%s: %d full listings (%v)", what, n, px.Requests())
			}
		}
		list(tg, "first", true)
		list(tg, "unchanged", false)
		if n := px.Count("sync-collection"); n != 0 {
			t.Errorf("unchanged: %d sync-collection requests", n)
		}
		srv.PutCard(t, coll+"c.vcf", davtest.Card("c", "Cat"))
		srv.DeleteCard(t, coll+"a.vcf")
		srv.PutCard(t, coll+"b.vcf", davtest.Card("b", "Ben Changed"))
		list(tg, "changed", false)

		next := newTarget(t, srv, px.URL+coll)
		next.SetCursor(tg.Cursor())
		list(next, "next process", false)
		// Digest needs a fresh challenge in a new process: one more request.
		want := 1
		if srv.Auth == "digest" {
			want = 2
		}
		if n := len(px.Requests()); n != want {
			t.Errorf("next process: %d requests, want %d", n, want)
		}
		// The cursor a process hands on unchanged still lists by one
		// getctag, and a change made after it is seen.
		third := newTarget(t, srv, px.URL+coll)
		third.SetCursor(next.Cursor())
		srv.PutCard(t, coll+"d.vcf", davtest.Card("d", "Dan"))
		list(third, "third process, after a change", false)
		// A cursor whose listing does not read is listed in full.
		var bad map[string]any
		if err := json.Unmarshal([]byte(third.Cursor()), &bad); err != nil {
			t.Fatal(err)
		}
		bad["l"] = map[string]int{"d.vcf": 1}
		b, _ := json.Marshal(bad)
		fourth := newTarget(t, srv, px.URL+coll)
		fourth.SetCursor(string(b))
		list(fourth, "a cursor with a broken listing", true)
	})
}
