package carddav

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	gosync "sync"

	"github.com/emersion/go-vcard"

	"kith/internal/dav"
	ksync "kith/sync"
	"kith/sync/card"
)

// Target keeps kith's merged set in one CardDAV collection. Entries are
// named by their href relative to the collection ("<uid>.vcf"). It is safe
// for concurrent use: the engine may run up to MaxParallel writes at once.
type Target struct {
	name string
	coll *url.URL
	opts Options
	c    *client
	log  *slog.Logger

	mu      gosync.Mutex
	missing bool // List found no collection: the first write creates it
	// known is what the last List saw, to list again at the cost of a
	// getctag (or a sync-collection) when little or nothing changed.
	known *targetState
	// cursor is known as Cursor gives it (with the login scheme
	// cursorAuth), kept while known stays as it is: a sync in which the
	// collection did not change hands back the cursor it was given
	// without encoding the listing again.
	cursor, cursorAuth string
}

// targetState is the collection as the last List saw it.
type targetState struct {
	V int `json:"v"`
	// URL is the collection's: a state for another one is not used.
	URL string `json:"u"`
	// CTag and Token are the collection's getctag and sync-token, asked
	// before the listing was made.
	CTag  string `json:"c,omitempty"`
	Token string `json:"t,omitempty"`
	// Listing is entry name → ETag.
	Listing map[string]string `json:"l"`
	// Auth is the login scheme the server asked for, when a later
	// process may send it at once (Basic).
	Auth string `json:"a,omitempty"`
	// raw is Listing as a cursor held it, while it is not decoded yet
	// (Listing nil): a restored state's listing is decoded by the List
	// that needs it, once its getctag is asked, not before.
	raw json.RawMessage
}

// storedState is targetState as a cursor holds it, its listing not
// decoded.
type storedState struct {
	targetState
	Listing json.RawMessage `json:"l"`
}

// targetStateVersion changes when targetState's meaning does.
const targetStateVersion = 1

var _ ksync.Target = (*Target)(nil)

// NewTarget returns a target writing to the collection at opts.URL. It
// makes no request: the collection is created, when missing, by the first
// write.
func NewTarget(opts Options) (*Target, error) {
	u, err := opts.check("target")
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return &Target{name: opts.Name, coll: u, opts: opts, c: newClient(&opts, u), log: opts.Logger.With("target", opts.Name)}, nil
}

// Name returns the target's configured name.
func (t *Target) Name() string { return t.name }

// MaxParallel is how many writes the engine may run at once.
func (t *Target) MaxParallel() int { return t.opts.MaxParallel }

// href returns the URL of an entry.
func (t *Target) href(name string) *url.URL { return t.coll.JoinPath(url.PathEscape(name)) }

// relName returns the entry name of u, or "" when u is not directly in the
// collection.
func (t *Target) relName(u *url.URL) string {
	name, ok := strings.CutPrefix(u.Path, t.coll.Path)
	if !ok || name == "" || strings.Contains(strings.TrimSuffix(name, "/"), "/") || strings.HasSuffix(name, "/") {
		return ""
	}
	return name
}

// List returns every card in the collection: href → ETag as the server
// sends it (quoted; quotes are added when a server leaves them out). A
// missing collection lists as empty; it is created by the first Put.
//
// The collection's getctag (and sync-token) is asked first: when it did
// not move since the last List, that listing is returned as it was; when
// it moved and the server offers sync-collection, only the changes since
// the last List are asked for. Otherwise the collection is listed in full.
func (t *Target) List(ctx context.Context) (map[string]string, error) {
	out, err := t.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("target %q: listing %s: %w", t.name, redact(t.coll), err)
	}
	return out, nil
}

func (t *Target) list(ctx context.Context) (map[string]string, error) {
	t.mu.Lock()
	known := t.known
	t.mu.Unlock()
	// The sync-token only when a full listing is likely to follow: on some
	// servers (Radicale) it costs as much again as the getctag.
	props := []string{"<D:resourcetype/>", "<CS:getctag/>"}
	withToken := known == nil || known.Token == ""
	if withToken {
		props = append(props, "<D:sync-token/>")
	}
	var p prop
	var found bool
	var err error
	t.opts.Probes.probe(func() { p, found, err = t.collectionProps(ctx, props...) })
	if err != nil {
		return nil, err
	}
	if !found {
		t.setMissing(nil)
		return map[string]string{}, nil
	}
	if known != nil && known.Listing == nil {
		// Restored by SetCursor: decoded while the other probes are
		// answered. One that does not decode is listed in full.
		k := *known
		if err := json.Unmarshal(known.raw, &k.Listing); err != nil || k.Listing == nil {
			known = nil
		} else {
			k.raw, known = nil, &k
		}
	}
	next := &targetState{V: targetStateVersion, URL: t.coll.String(), CTag: p.CTag, Token: p.SyncToken}
	switch {
	case known != nil && p.CTag != "" && p.CTag == known.CTag:
		t.log.Debug("collection unchanged since the last listing", "ctag", p.CTag)
		// known stays, and with it the cursor made of it.
		t.mu.Lock()
		t.known = known
		t.missing = false
		t.mu.Unlock()
		return maps.Clone(known.Listing), nil
	case known != nil && known.Token != "":
		listing, token, err := t.changesSince(ctx, known)
		if err == nil {
			next.Listing, next.Token = listing, token
			break
		}
		if ctx.Err() != nil {
			return nil, err
		}
		t.log.Debug("changes since the last listing not available; listing in full", "err", err)
		fallthrough
	default:
		if !withToken {
			// The token from before the listing, so that a change made
			// while it is made is seen by the next one.
			q, _, err := t.collectionProps(ctx, "<D:sync-token/>")
			if err != nil {
				return nil, err
			}
			next.Token = q.SyncToken
		}
		listing, err := t.listAll(ctx)
		if err != nil {
			return nil, err
		}
		next.Listing = listing
	}
	t.mu.Lock()
	t.known, t.cursor = next, ""
	t.missing = false
	t.mu.Unlock()
	return maps.Clone(next.Listing), nil
}

// collectionProps asks the collection's props. found is false when the
// collection does not exist (a 404, or a 207 holding one, as Xandikos
// answers).
func (t *Target) collectionProps(ctx context.Context, props ...string) (prop, bool, error) {
	ms, _, err := t.c.propfind(ctx, t.coll, "0", false, props...)
	if dav.IsNotFound(err) {
		return prop{}, false, nil
	}
	if err != nil {
		return prop{}, false, err
	}
	for _, r := range ms.Responses {
		if q, ok := r.OK(); ok && q.ResourceType != nil || ok && len(props) == 1 {
			return q, true, nil
		}
	}
	return prop{}, false, nil
}

// setMissing notes that the collection does not exist: the first write
// creates it.
func (t *Target) setMissing(_ error) {
	t.mu.Lock()
	t.missing = true
	t.known, t.cursor = nil, ""
	t.mu.Unlock()
	t.log.Info("collection does not exist yet; it is created on the first write", "url", redact(t.coll))
}

// listAll lists every card in the collection with a PROPFIND.
func (t *Target) listAll(ctx context.Context) (map[string]string, error) {
	ms, final, err := t.c.propfind(ctx, t.coll, "1", false, "<D:resourcetype/>", "<D:getetag/>")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range ms.Responses {
		p, ok := r.OK()
		if !ok || len(r.Hrefs) == 0 || (p.ResourceType != nil && p.ResourceType.Collection != nil) {
			continue
		}
		u, err := dav.Resolve(final, r.Hrefs[0])
		if err != nil {
			continue
		}
		if name := t.relName(u); name != "" {
			out[name] = dav.NormETag(p.ETag)
		}
	}
	return out, nil
}

// changesSince applies what changed in the collection since known's
// sync-token to its listing. It fails when the server no longer accepts
// the token or leaves out a changed card's ETag.
func (t *Target) changesSince(ctx context.Context, known *targetState) (map[string]string, string, error) {
	b := book{url: t.coll}
	changed, gone, token, err := syncCollection(ctx, t.c, b, known.Token)
	if err != nil {
		return nil, "", err
	}
	out := maps.Clone(known.Listing)
	for _, p := range gone {
		if name := t.relName(&url.URL{Path: p}); name != "" {
			delete(out, name)
		}
	}
	for _, m := range changed {
		name := t.relName(m.url)
		if name == "" {
			continue
		}
		if m.etag == "" {
			return nil, "", fmt.Errorf("sync-collection: no ETag for %s", name)
		}
		out[name] = m.etag
	}
	t.log.Debug("collection listed by its changes", "changed", len(changed), "removed", len(gone))
	return out, token, nil
}

// Cursor returns what the target knows of its collection after its last
// List, to be handed to SetCursor of the target in the next process, so
// that its first List costs a getctag too. It holds no secret.
func (t *Target) Cursor() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known == nil {
		return ""
	}
	auth := t.c.auth.Learned()
	if t.cursor != "" && t.cursorAuth == auth {
		return t.cursor
	}
	st := *t.known
	st.Auth = auth
	var b []byte
	var err error
	if st.Listing == nil { // restored, and not listed since
		b, err = json.Marshal(storedState{targetState: st, Listing: st.raw})
	} else {
		b, err = json.Marshal(st)
	}
	if err != nil {
		return ""
	}
	t.cursor, t.cursorAuth = string(b), auth
	return t.cursor
}

// SetCursor restores what Cursor returned, unless the target already
// listed its collection (what it saw itself is newer). A cursor that does
// not fit (another URL, another version, unreadable) is ignored: the next
// List lists in full.
func (t *Target) SetCursor(raw string) {
	if raw == "" {
		return
	}
	// The listing (one entry a card) is decoded by List, after its getctag
	// is asked: the request need not wait for it.
	var st storedState
	if err := json.Unmarshal([]byte(raw), &st); err != nil || st.V != targetStateVersion || st.URL != t.coll.String() ||
		len(st.Listing) == 0 || string(st.Listing) == "null" {
		return
	}
	t.c.auth.Remember(st.Auth)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known == nil {
		known := st.targetState
		known.raw = st.Listing
		t.known, t.cursor, t.cursorAuth = &known, raw, st.Auth
	}
}

// Get returns the cards at hrefs, read with addressbook-multiget in
// batches and single GETs where a batch fails. An href that is gone is
// left out. A card that cannot be read or decoded, or is over Options.Card,
// fails Get: kith must not write over a user's card it could not see (the
// engine reads such a batch again card by card, sync.GetEach, and leaves
// the unreadable one alone).
func (t *Target) Get(ctx context.Context, hrefs []string) (map[string]ksync.Entry, error) {
	out := map[string]ksync.Entry{}
	if len(hrefs) == 0 {
		return out, nil
	}
	urls := make([]*url.URL, len(hrefs))
	byPath := map[string]string{}
	for i, h := range hrefs {
		urls[i] = t.href(h)
		byPath[urls[i].Path] = h
	}
	res, err := t.c.fetch(ctx, t.coll, urls, t.opts.BatchSize, t.opts.MaxParallel)
	if err != nil {
		return nil, fmt.Errorf("target %q: reading cards: %w", t.name, err)
	}
	if len(res.problems) > 0 {
		var names []string
		for p := range res.problems {
			names = append(names, p)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("target %q: %s: %w", t.name, byPath[names[0]], res.problems[names[0]].err)
	}
	for p, f := range res.cards {
		out[byPath[p]] = ksync.Entry{ETag: f.etag, Card: f.card}
	}
	return out, nil
}

// Put writes c (as vCard 3.0) at href: with etag "" only if no card is
// there (If-None-Match: *), else only if the card still has etag
// (If-Match). A failed condition is ksync.ErrConflict. It returns the new
// ETag, asked for with a PROPFIND when the server sends none.
func (t *Target) Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error) {
	if err := t.ensure(ctx); err != nil {
		return "", err
	}
	u := t.href(href)
	h := http.Header{"Content-Type": {"text/vcard; charset=utf-8"}}
	if etag == "" {
		h.Set("If-None-Match", "*")
	} else {
		h.Set("If-Match", dav.MatchETag(etag))
	}
	body := card.EncodeBytes(card.ToV3(c))
	put := func() (*http.Response, error) {
		return t.c.do(ctx, request{method: http.MethodPut, url: u, header: h, body: body},
			http.StatusOK, http.StatusCreated, http.StatusNoContent)
	}
	resp, err := put()
	if code := dav.StatusOf(err); etag == "" && (code == http.StatusNotFound || code == http.StatusConflict) {
		// The collection is gone (or was never listed): make it, once.
		t.mu.Lock()
		t.missing = true
		t.mu.Unlock()
		if err := t.ensure(ctx); err != nil {
			return "", err
		}
		resp, err = put()
	}
	if dav.StatusOf(err) == http.StatusPreconditionFailed {
		t.log.Debug("write refused: the card changed since it was read", "href", href, "if_match", etag)
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("target %q: %s: writing: %w", t.name, href, err)
	}
	drain(resp)
	if tag := dav.NormETag(resp.Header.Get("ETag")); tag != "" {
		return tag, nil
	}
	// No ETag: the server may have changed the card as it stored it.
	tag, err := t.etag(ctx, u)
	if err != nil {
		return "", fmt.Errorf("target %q: %s: written, but reading its ETag: %w", t.name, href, err)
	}
	return tag, nil
}

// Delete removes href if it still has etag; a failed condition is
// ksync.ErrConflict. A card that is already gone is not an error. An empty
// etag is an error and sends nothing: a DELETE without If-Match would remove
// whatever a phone wrote there since.
func (t *Target) Delete(ctx context.Context, href, etag string) error {
	if etag == "" {
		return fmt.Errorf("target %q: %s: delete without an etag", t.name, href)
	}
	h := http.Header{"If-Match": {dav.MatchETag(etag)}}
	resp, err := t.c.do(ctx, request{method: http.MethodDelete, url: t.href(href), header: h},
		http.StatusOK, http.StatusNoContent, http.StatusAccepted)
	if dav.StatusOf(err) == http.StatusPreconditionFailed {
		// sabre/dav answers 412, not 404, when the card is already gone.
		if _, gerr := t.etag(ctx, t.href(href)); dav.IsNotFound(gerr) {
			return nil
		}
	}
	switch {
	case dav.StatusOf(err) == http.StatusPreconditionFailed:
		t.log.Debug("delete refused: the card changed since it was read", "href", href)
		return fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	case dav.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("target %q: %s: deleting: %w", t.name, href, err)
	}
	drain(resp)
	return nil
}

// etag reads the ETag of one entry.
func (t *Target) etag(ctx context.Context, u *url.URL) (string, error) {
	ms, _, err := t.c.propfind(ctx, u, "0", false, "<D:getetag/>")
	if err != nil {
		return "", err
	}
	for _, r := range ms.Responses {
		if p, ok := r.OK(); ok && p.ETag != "" {
			return dav.NormETag(p.ETag), nil
		}
	}
	return "", errors.New("server sent no ETag")
}

// ensure creates the collection when List found it missing.
func (t *Target) ensure(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.missing {
		return nil
	}
	if err := mkcol(ctx, t.c, t.coll, t.opts.DisplayName); err != nil {
		return fmt.Errorf("target %q: creating collection %s: %w", t.name, redact(t.coll), err)
	}
	t.log.Info("collection created", "url", redact(t.coll))
	t.missing = false
	return nil
}

// mkcol creates an address book at u with an extended MKCOL (RFC 5689).
// A collection that exists by now (405) is fine.
func mkcol(ctx context.Context, c *client, u *url.URL, displayName string) error {
	body := `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>` + dav.XMLText(displayName) +
		`</D:displayname></D:prop></D:set></D:mkcol>`
	resp, err := c.do(ctx, request{method: "MKCOL", url: u, header: http.Header{"Content-Type": {`application/xml; charset="utf-8"`}}, body: []byte(body)},
		http.StatusCreated, http.StatusOK, http.StatusNoContent)
	if dav.StatusOf(err) == http.StatusMethodNotAllowed {
		return nil
	}
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}
