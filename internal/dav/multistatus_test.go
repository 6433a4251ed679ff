package dav

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const answer = `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/" xmlns:cal="urn:ietf:params:xml:ns:caldav">` +
	`<d:response><d:href>/cal/work/</d:href><d:propstat><d:prop><cs:getctag>"c1"</cs:getctag><d:sync-token>t1</d:sync-token>` +
	`<cal:supported-calendar-component-set><cal:comp name="VEVENT"/><cal:comp name="VTODO"/></cal:supported-calendar-component-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>` +
	`<d:propstat><d:prop><d:displayname/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>`

// An answer is read up to the limit and no further; within it, the
// properties of the 200 propstats are what OK gives.
func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit int64
		err   error
	}{
		{"no limit", 0, nil},
		{"exactly the limit", int64(len(answer)), nil},
		{"one byte over", int64(len(answer)) - 1, ErrTooLarge},
		{"far over", 100, ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Decode(strings.NewReader(answer), tt.limit)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			p, ok := ms.Responses[0].OK()
			if !ok || p.CTag != `"c1"` || p.SyncToken != "t1" || strings.Join(p.Components.Names(), ",") != "VEVENT,VTODO" {
				t.Errorf("got %+v %v", p, ok)
			}
		})
	}
}

// FuzzDecode: no answer may panic, and none is read past the limit.
func FuzzDecode(f *testing.F) {
	f.Add(answer, int64(0))
	f.Add(`<multistatus xmlns="DAV:"><response><href>%zz</href><status>garbage</status></response><sync-token/></multistatus>`, int64(10))
	base, _ := url.Parse("http://127.0.0.1/cal/")
	f.Fuzz(func(t *testing.T, body string, limit int64) {
		r := strings.NewReader(body)
		ms, err := Decode(r, limit)
		if limit > 0 && int64(len(body))-int64(r.Len()) > limit+1 {
			t.Errorf("read %d bytes, limit %d", int64(len(body))-int64(r.Len()), limit)
		}
		if err != nil {
			return
		}
		for _, resp := range ms.Responses {
			Code(resp.Status)
			p, _ := resp.OK()
			p.SupportedReports.Sync()
			p.Components.Names()
			MatchETag(p.ETag)
			for _, h := range resp.Hrefs {
				Resolve(base, h)
			}
		}
	})
}
