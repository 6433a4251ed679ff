package davserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSyncCollectionLimit: a client asking for a few changes at a time gets
// them in order with a 507 for the book and a token to continue from, and
// sees every card exactly once.
func TestSyncCollectionLimit(t *testing.T) {
	e := newEnv(t)
	cards := map[string]string{}
	for i := 0; i < 5; i++ {
		cards[fmt.Sprintf("c%d.vcf", i)] = vcard3(fmt.Sprintf("c%d", i), fmt.Sprintf("C %d", i), "")
	}
	seed(t, e, cards)
	seen := map[string]int{}
	token := ""
	for round := 0; round < 10; round++ {
		body := wantStatus(t, e.do(t, "REPORT", bookHref, `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+token+
			`</D:sync-token><D:sync-level>1</D:sync-level><D:limit><D:nresults>2</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`), 207)
		ms := parseMS(t, body)
		token = ms.SyncToken
		more := false
		for href, st := range ms.hrefs() {
			if href == bookHref {
				more = st == "507"
				continue
			}
			seen[href]++
		}
		if !more {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %v", seen)
	}
	for href, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", href, n)
		}
	}
	if ch := changesSince(t, e, token); len(ch) != 0 {
		t.Fatalf("after the last page: %v", ch)
	}
}

// TestOldTokenRefused: once tombstones older than the retention are
// forgotten, a token from before them is refused (403 valid-sync-token)
// instead of silently missing deletions; a fresh sync works.
func TestOldTokenRefused(t *testing.T) {
	e := newEnv(t)
	seed(t, e, map[string]string{"a.vcf": vcard3("a", "A", ""), "b.vcf": vcard3("b", "B", "")})
	old := syncToken(t, e)
	tg := e.srv.Target("server")
	list, _ := tg.List(context.Background())
	if err := tg.Delete(context.Background(), "a.vcf", list["a.vcf"]); err != nil {
		t.Fatal(err)
	}
	if ch := changesSince(t, e, old); ch["a.vcf"] != "404" {
		t.Fatalf("deletion not reported: %v", ch)
	}
	e.clock.Add(tombstoneRetention + time.Hour)
	if err := tg.Delete(context.Background(), "b.vcf", list["b.vcf"]); err != nil {
		t.Fatal(err)
	}
	resp := e.do(t, "REPORT", bookHref, `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+old+`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
	if body := wantStatus(t, resp, http.StatusForbidden); !strings.Contains(body, "valid-sync-token") {
		t.Fatalf("old token: %s", body)
	}
	if tok := syncToken(t, e); tok == "" || tok == old {
		t.Fatalf("fresh token %q", tok)
	}
}

// TestServeShutsDown: Serve answers on its listener and returns nil once
// its context is cancelled.
func TestServeShutsDown(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln, "", "") }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusOK)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if err := e.srv.ListenAndServe(context.Background(), "127.0.0.1:0", "cert.pem", ""); err == nil {
		t.Fatal("a certificate without a key was accepted")
	}
}
