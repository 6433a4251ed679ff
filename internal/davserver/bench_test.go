package davserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// seedBulk fills the book with n cards in one transaction (the per-card
// fsync of Target.Put would make setting up 10k cards slow).
func seedBulk(b *testing.B, e *testEnv, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for i := 0; i < n; i++ {
		uid := fmt.Sprintf("contact-%05d", i)
		data := []byte(vcard3(uid, fmt.Sprintf("Person %05d", i),
			fmt.Sprintf("EMAIL;TYPE=HOME:person%05d@example.org\r\nTEL;TYPE=CELL:+44 7700 9%05d\r\nNOTE:met at conference %d\r\n", i, i, i%40)))
		rev, err := bump(ctx, tx)
		if err != nil {
			b.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO dav_cards(href, uid, etag, data, rev, modified) VALUES (?, ?, ?, ?, ?, ?)`,
			uid+".vcf", uid, etagOf(data), data, rev, e.clock.Now().Unix())
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// benchRequest runs one request per iteration and reports the response
// body size.
func benchRequest(b *testing.B, e *testEnv, method, path, body string, hdr ...string) {
	b.Helper()
	client := e.http.Client()
	var size int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
		req.SetBasicAuth(testUser, testPassword)
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		for j := 0; j+1 < len(hdr); j += 2 {
			req.Header.Set(hdr[j], hdr[j+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusMultiStatus {
			b.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		size = n
	}
	b.ReportMetric(float64(size), "resp-bytes/op")
}

const benchBookSize = 10000

// BenchmarkPollNoChange is what a phone costs every poll once it holds a
// sync token: sync-collection with the token against an unchanged 10k book.
func BenchmarkPollNoChange(b *testing.B) {
	e := newEnv(b)
	seedBulk(b, e, benchBookSize)
	token := syncToken(b, e)
	benchRequest(b, e, "REPORT", bookHref, `<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:"><A:sync-token>`+token+`</A:sync-token><A:sync-level>1</A:sync-level>
<A:prop><A:getetag/><A:getcontenttype/></A:prop></A:sync-collection>`, "User-Agent", iosAgent)
}

// BenchmarkPropfindListing is what the same poll costs a client without
// sync-collection: a Depth 1 PROPFIND listing every card's ETag.
func BenchmarkPropfindListing(b *testing.B) {
	e := newEnv(b)
	seedBulk(b, e, benchBookSize)
	benchRequest(b, e, "PROPFIND", bookHref, `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><A:getetag/><A:getcontenttype/></A:prop></A:propfind>`, "Depth", "1", "User-Agent", iosAgent)
}
