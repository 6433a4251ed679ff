package dav

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Doer sends one PROPFIND or REPORT (depth "" for none) and returns its 207
// answer, decoded, and the URL it came from (after redirects), which
// hrefs resolve against. Any other status is a *StatusError.
type Doer func(ctx context.Context, method string, u *url.URL, depth string, body []byte) (*Multistatus, *url.URL, error)

// Propfind asks for props (XML elements; namespaces declared as D for DAV:,
// C for CardDAV, CAL for CalDAV and CS for CalendarServer) of u at the
// given depth.
func Propfind(ctx context.Context, do Doer, u *url.URL, depth string, props ...string) (*Multistatus, *url.URL, error) {
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
		strings.Join(props, "") + `</D:prop></D:propfind>`
	return do(ctx, "PROPFIND", u, depth, []byte(body))
}

// CTag returns the getctag of the collection at u, or "" when the server
// has none: one small PROPFIND, all a collection that did not change
// needs.
func CTag(ctx context.Context, do Doer, u *url.URL) (string, error) {
	p, err := prop0(ctx, do, u, "<CS:getctag/>")
	return p.CTag, err
}

// SyncToken returns the sync-token of the collection at u, or "" when the
// server has none. (Asked apart from the getctag: on Radicale it costs
// twice as much.)
func SyncToken(ctx context.Context, do Doer, u *url.URL) (string, error) {
	p, err := prop0(ctx, do, u, "<D:sync-token/>")
	return p.SyncToken, err
}

// prop0 returns the 200 properties of u itself.
func prop0(ctx context.Context, do Doer, u *url.URL, props ...string) (Prop, error) {
	ms, _, err := Propfind(ctx, do, u, "0", props...)
	if err != nil {
		return Prop{}, err
	}
	for _, r := range ms.Responses {
		if p, ok := r.OK(); ok {
			return p, nil
		}
	}
	return Prop{}, nil
}

// Member is a collection member a sync-collection named as new or changed.
type Member struct {
	URL  *url.URL
	ETag string
}

// Changes is what a sync-collection report gave.
type Changes struct {
	// Changed are the members new or changed since the token, by URL path.
	Changed map[string]Member
	// Gone are the URL paths of members removed since the token, sorted.
	Gone []string
	// Token is the collection's new sync token.
	Token string
}

// maxSyncRounds bounds the follow-up requests of a truncated (507)
// sync-collection answer.
const maxSyncRounds = 1000

// SyncCollection asks what changed in the collection at coll since token
// ("" for everything): changed or new members with their ETags, removed
// members, and the new token. A truncated answer (507 on the collection) is
// followed up with the token it gave. A refused token comes back as a
// *StatusError for which InvalidToken is true.
func SyncCollection(ctx context.Context, do Doer, coll *url.URL, token string) (Changes, error) {
	changed := map[string]Member{}
	removed := map[string]bool{}
	for round := 0; ; round++ {
		body := `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + XMLText(token) +
			`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
		ms, final, err := do(ctx, "REPORT", coll, "", []byte(body))
		if err != nil {
			return Changes{}, err
		}
		truncated := false
		for _, r := range ms.Responses {
			if len(r.Hrefs) == 0 {
				continue
			}
			u, err := Resolve(final, r.Hrefs[0])
			if err != nil {
				continue
			}
			if SamePath(u.Path, coll.Path) {
				if Code(r.Status) == http.StatusInsufficientStorage {
					truncated = true
				}
				continue
			}
			if c := Code(r.Status); c == http.StatusNotFound || c == http.StatusGone {
				removed[u.Path] = true
				delete(changed, u.Path)
				continue
			}
			p, _ := r.OK()
			if strings.HasSuffix(u.Path, "/") && p.ETag == "" {
				continue // a sub-collection
			}
			delete(removed, u.Path)
			changed[u.Path] = Member{URL: u, ETag: NormETag(p.ETag)}
		}
		if ms.SyncToken == "" {
			return Changes{}, errors.New("sync-collection: no sync-token in the answer")
		}
		token = ms.SyncToken
		if !truncated {
			break
		}
		if round >= maxSyncRounds {
			return Changes{}, errors.New("sync-collection: answer still truncated after many rounds")
		}
	}
	out := Changes{Changed: changed, Token: token}
	for p := range removed {
		out.Gone = append(out.Gone, p)
	}
	slices.Sort(out.Gone)
	return out, nil
}
