package davserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

func mustDecode(t testing.TB, text string) vcard.Card {
	t.Helper()
	c, err := card.Decode([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTargetConditions checks the Target contract the engine relies on:
// create-only with "", If-Match otherwise, ErrConflict on a mismatch, and
// no new ETag (no churn) when a card is written with what it holds.
func TestTargetConditions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tg := e.srv.Target("server")
	if tg.Name() != "server" {
		t.Fatalf("Name %q", tg.Name())
	}
	ada := mustDecode(t, vcard3("ada", "Ada Lovelace", ""))
	etag, err := tg.Put(ctx, "ada.vcf", ada, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Put(ctx, "ada.vcf", ada, ""); !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("create over an existing card: %v, want ErrConflict", err)
	}
	if _, err := tg.Put(ctx, "ada.vcf", ada, "stale"); !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("stale etag: %v, want ErrConflict", err)
	}
	token := syncToken(t, e)
	again, err := tg.Put(ctx, "ada.vcf", ada, etag)
	if err != nil || again != etag {
		t.Fatalf("rewrite with the same content: etag %q, %v; want %q", again, err, etag)
	}
	if got := changesSince(t, e, token); len(got) != 0 {
		t.Fatalf("rewrite with the same content shows as a change: %v", got)
	}
	// A second card with ada's UID is refused, and not as a conflict.
	if _, err := tg.Put(ctx, "other.vcf", ada, ""); err == nil || errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("duplicate UID: %v", err)
	}
	if _, err := tg.Put(ctx, "../x.vcf", mustDecode(t, vcard3("x", "X", "")), ""); err == nil {
		t.Fatal("href ../x.vcf accepted")
	}
	list, err := tg.List(ctx)
	if err != nil || len(list) != 1 || list["ada.vcf"] != etag {
		t.Fatalf("List: %v, %v", list, err)
	}
	got, err := tg.Get(ctx, []string{"ada.vcf", "missing.vcf"})
	if err != nil || len(got) != 1 || got["ada.vcf"].ETag != etag || got["ada.vcf"].Card.Value("FN") != "Ada Lovelace" {
		t.Fatalf("Get: %v, %v", got, err)
	}
	if err := tg.Delete(ctx, "ada.vcf", "stale"); !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("delete with a stale etag: %v", err)
	}
	if err := tg.Delete(ctx, "ada.vcf", etag); err != nil {
		t.Fatal(err)
	}
	if err := tg.Delete(ctx, "ada.vcf", etag); !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("delete of a gone card: %v", err)
	}
	// A card created again after a delete is a new card for pollers.
	if _, err := tg.Put(ctx, "ada.vcf", ada, ""); err != nil {
		t.Fatal(err)
	}
	if got := changesSince(t, e, token); got["ada.vcf"] != "200" {
		t.Fatalf("re-created card: %v", got)
	}
}

func syncToken(t testing.TB, e *testEnv) string {
	t.Helper()
	ms := parseMS(t, wantStatus(t, e.do(t, "REPORT", bookHref, `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`), 207))
	return ms.SyncToken
}

// changesSince returns the card names changed since token, with "200" or "404".
func changesSince(t testing.TB, e *testEnv, token string) map[string]string {
	t.Helper()
	ms := parseMS(t, wantStatus(t, e.do(t, "REPORT", bookHref, `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+token+`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`), 207))
	out := map[string]string{}
	for href, st := range ms.hrefs() {
		out[strings.TrimPrefix(href, bookHref)] = st
	}
	return out
}

// TestEngineKeepsPhoneEdits runs kith's engine against the server: a note
// added on a phone survives the next merge, a card deleted on the phone
// stays deleted, and a card created on the phone is left alone and
// readable for the engine to turn into a record.
func TestEngineKeepsPhoneEdits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	eng, err := ksync.NewEngine("GB")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	golden := map[string]vcard.Card{
		"ada": mustDecode(t, vcard3("ada", "Ada Lovelace", "EMAIL:ada@example.org\r\n")),
		"bob": mustDecode(t, vcard3("bob", "Bob Miller", "")),
	}
	contacts := func() []*ksync.Contact {
		var out []*ksync.Contact
		for _, uid := range []string{"ada", "bob"} {
			out = append(out, &ksync.Contact{UID: uid, Card: golden[uid], Hash: card.Hash(golden[uid])})
		}
		return out
	}
	prev := func(uid string) (vcard.Card, string) { return golden[uid], card.Hash(golden[uid]) }
	tg := e.srv.Target("server")
	entries, stats, err := eng.SyncTarget(ctx, tg, contacts(), prev, nil, ksync.Intents{}, nil, log)
	if err != nil || stats.Created != 2 {
		t.Fatalf("first sync: %+v, %v", stats, err)
	}

	// On the phone: a note on ada, bob deleted, a new contact.
	resp := e.do(t, http.MethodGet, bookHref+"ada.vcf", "", "User-Agent", iosAgent)
	adaText := wantStatus(t, resp, http.StatusOK)
	edited := strings.Replace(adaText, "END:VCARD", "NOTE:met at the Royal Society\\, 1843\r\nEND:VCARD", 1)
	wantStatus(t, e.do(t, http.MethodPut, bookHref+"ada.vcf", edited, "Content-Type", "text/vcard", "If-Match", resp.Header.Get("ETag")), http.StatusNoContent)
	resp = e.do(t, http.MethodGet, bookHref+"bob.vcf", "")
	readBody(t, resp)
	wantStatus(t, e.do(t, http.MethodDelete, bookHref+"bob.vcf", "", "If-Match", resp.Header.Get("ETag")), http.StatusNoContent)
	wantStatus(t, e.do(t, http.MethodPut, bookHref+"new-on-phone.vcf", vcard3("phone-1", "Linh Nguyen", ""), "Content-Type", "text/vcard", "If-None-Match", "*"), http.StatusCreated)

	// The sources changed too: ada got a phone number, bob a title.
	last := map[string]vcard.Card{"ada": golden["ada"], "bob": golden["bob"]}
	golden["ada"] = mustDecode(t, vcard3("ada", "Ada Lovelace", "EMAIL:ada@example.org\r\nTEL:+44 20 7946 0001\r\n"))
	golden["bob"] = mustDecode(t, vcard3("bob", "Bob Miller", "TITLE:Engineer\r\n"))
	_, stats, err = eng.SyncTarget(ctx, tg, contacts(), func(uid string) (vcard.Card, string) {
		if c := last[uid]; c != nil {
			return c, card.Hash(c)
		}
		return nil, ""
	}, entries, ksync.Intents{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if stats.UserEdits != 1 || stats.UserDeletes != 1 {
		t.Fatalf("second sync: %+v", stats)
	}
	got, err := tg.Get(ctx, []string{"ada.vcf", "bob.vcf", "new-on-phone.vcf"})
	if err != nil {
		t.Fatal(err)
	}
	ada := got["ada.vcf"].Card
	if card.Text(ada.Value("NOTE")) != "met at the Royal Society, 1843" || ada.Value("TEL") == "" {
		t.Fatalf("ada after the merge keeps the note and gains the number? %v", card.EncodeBytes(ada))
	}
	if _, ok := got["bob.vcf"]; ok {
		t.Fatal("bob, deleted on the phone, came back")
	}
	if c := got["new-on-phone.vcf"].Card; c.Value("FN") != "Linh Nguyen" {
		t.Fatalf("the phone's new card: %v", c)
	}
}
