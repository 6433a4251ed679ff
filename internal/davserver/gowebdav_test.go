package davserver

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"
)

// TestGoWebDAVClient runs go-webdav's CardDAV client, the one Go programs
// use, against kith's server as a third client beside vdirsyncer and
// khard: it finds the address book by discovery, lists and fetches the
// cards, writes one (without conditional headers, as it does), follows
// the changes with sync-collection, and deletes.
func TestGoWebDAVClient(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{
		"ada.vcf": vcard3("ada", "Ada Lovelace", "NOTE:2026-11-20 coffee\\, talked about hiring\r\nEMAIL:ada@example.org\r\n"),
		"bob.vcf": vcard3("bob", "Bob Miller", "TEL;TYPE=CELL:+44 20 7946 0000\r\n"),
	})
	ctx := context.Background()
	hc := webdav.HTTPClientWithBasicAuth(e.http.Client(), testUser, testPassword)
	c, err := carddav.NewClient(hc, e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.HasSupport(ctx); err != nil {
		t.Fatalf("HasSupport: %v", err)
	}
	principal, err := c.FindCurrentUserPrincipal(ctx)
	if err != nil {
		t.Fatalf("FindCurrentUserPrincipal: %v", err)
	}
	home, err := c.FindAddressBookHomeSet(ctx, principal)
	if err != nil {
		t.Fatalf("FindAddressBookHomeSet(%q): %v", principal, err)
	}
	books, err := c.FindAddressBooks(ctx, home)
	if err != nil {
		t.Fatalf("FindAddressBooks(%q): %v", home, err)
	}
	i := slices.IndexFunc(books, func(b carddav.AddressBook) bool { return b.Path == bookHref })
	if i < 0 {
		t.Fatalf("principal %q, home set %q: books %+v, want %s", principal, home, books, bookHref)
	}
	if !books[i].SupportsAddressData("text/vcard", "3.0") {
		t.Errorf("book %s does not offer vCard 3.0: %+v", bookHref, books[i].SupportedAddressData)
	}

	all, err := c.QueryAddressBook(ctx, bookHref, &carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil {
		t.Fatalf("QueryAddressBook: %v", err)
	}
	byFN := map[string]carddav.AddressObject{}
	for _, ao := range all {
		byFN[ao.Card.PreferredValue(vcard.FieldFormattedName)] = ao
	}
	ada, ok := byFN["Ada Lovelace"]
	if len(all) != 2 || !ok || byFN["Bob Miller"].ETag == "" {
		t.Fatalf("query: %d cards %v, want Ada Lovelace and Bob Miller with ETags", len(all), byFN)
	}
	if note := ada.Card.Value(vcard.FieldNote); note != "2026-11-20 coffee, talked about hiring" {
		t.Errorf("Ada's note read back as %q", note)
	}
	got, err := c.MultiGetAddressBook(ctx, bookHref, &carddav.AddressBookMultiGet{Paths: []string{ada.Path}, DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil || len(got) != 1 || got[0].ETag != ada.ETag || got[0].Card.Value(vcard.FieldEmail) != "ada@example.org" {
		t.Fatalf("multiget %s: %+v, %v", ada.Path, got, err)
	}

	first, err := c.SyncCollection(ctx, bookHref, &carddav.SyncQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil {
		t.Fatalf("first sync-collection: %v", err)
	}
	if first.SyncToken == "" || len(first.Updated) != 2 {
		t.Fatalf("first sync-collection: token %q, %d cards, want a token and 2", first.SyncToken, len(first.Updated))
	}

	// A new card, written as go-webdav writes: a plain PUT.
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "3.0")
	card.SetValue(vcard.FieldUID, "grace")
	card.SetValue(vcard.FieldFormattedName, "Grace Hopper")
	card.SetName(&vcard.Name{FamilyName: "Hopper", GivenName: "Grace"})
	card.SetValue(vcard.FieldNote, "2026-11-28 met at the meetup; follow up about COBOL")
	put, err := c.PutAddressObject(ctx, bookHref+"grace.vcf", card)
	if err != nil {
		t.Fatalf("PutAddressObject: %v", err)
	}
	if put.ETag == "" {
		t.Errorf("PUT answered no ETag")
	}
	// kith's own door sees the client's words.
	body := wantStatus(t, e.do(t, "GET", bookHref+"grace.vcf", ""), 200)
	if !strings.Contains(body, "follow up about COBOL") {
		t.Fatalf("the card go-webdav wrote reads back as:\n%s", body)
	}

	next, err := c.SyncCollection(ctx, bookHref, &carddav.SyncQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}, SyncToken: first.SyncToken})
	if err != nil {
		t.Fatalf("sync-collection with the token: %v", err)
	}
	if len(next.Updated) != 1 || next.Updated[0].Path != bookHref+"grace.vcf" || len(next.Deleted) != 0 || next.SyncToken == first.SyncToken {
		t.Fatalf("sync-collection after one new card: %+v", next)
	}

	if err := c.RemoveAll(ctx, bookHref+"grace.vcf"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	last, err := c.SyncCollection(ctx, bookHref, &carddav.SyncQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}, SyncToken: next.SyncToken})
	if err != nil {
		t.Fatalf("sync-collection after the delete: %v", err)
	}
	if len(last.Updated) != 0 || !slices.Equal(last.Deleted, []string{bookHref + "grace.vcf"}) {
		t.Fatalf("sync-collection after the delete: %+v", last)
	}
}
