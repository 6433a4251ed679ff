package carddav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	gosync "sync"

	"github.com/emersion/go-vcard"

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
}

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
func (t *Target) List(ctx context.Context) (map[string]string, error) {
	ms, final, err := t.c.propfind(ctx, t.coll, "1", false, "<D:resourcetype/>", "<D:getetag/>")
	if isNotFound(err) {
		t.mu.Lock()
		t.missing = true
		t.mu.Unlock()
		t.log.Info("collection does not exist yet; it is created on the first write", "url", redact(t.coll))
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: listing %s: %w", t.name, redact(t.coll), err)
	}
	out := map[string]string{}
	exists := false
	for _, r := range ms.Responses {
		p, ok := r.ok()
		if ok && len(r.Hrefs) > 0 {
			if u, err := resolve(final, r.Hrefs[0]); err == nil && samePath(u.Path, t.coll.Path) {
				exists = true
			}
		}
		if !ok || len(r.Hrefs) == 0 || (p.ResourceType != nil && p.ResourceType.Collection != nil) {
			continue
		}
		u, err := resolve(final, r.Hrefs[0])
		if err != nil {
			continue
		}
		if name := t.relName(u); name != "" {
			out[name] = normETag(p.ETag)
		}
	}
	if !exists && len(out) == 0 {
		// Some servers (Xandikos) answer a PROPFIND of a missing
		// collection with a 207 holding a 404.
		t.mu.Lock()
		t.missing = true
		t.mu.Unlock()
		t.log.Info("collection does not exist yet; it is created on the first write", "url", redact(t.coll))
	}
	return out, nil
}

// Get returns the cards at hrefs, read with addressbook-multiget in
// batches and single GETs where a batch fails. An href that is gone is
// left out. A card that cannot be read or decoded fails Get: kith must not
// write over a user's card it could not see.
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
		return nil, fmt.Errorf("target %q: %s: %w", t.name, byPath[names[0]], res.problems[names[0]])
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
		h.Set("If-Match", matchETag(etag))
	}
	body := card.EncodeBytes(card.ToV3(c))
	put := func() (*http.Response, error) {
		return t.c.do(ctx, request{method: http.MethodPut, url: u, header: h, body: body},
			http.StatusOK, http.StatusCreated, http.StatusNoContent)
	}
	resp, err := put()
	if code := statusOf(err); etag == "" && (code == http.StatusNotFound || code == http.StatusConflict) {
		// The collection is gone (or was never listed): make it, once.
		t.mu.Lock()
		t.missing = true
		t.mu.Unlock()
		if err := t.ensure(ctx); err != nil {
			return "", err
		}
		resp, err = put()
	}
	if statusOf(err) == http.StatusPreconditionFailed {
		t.log.Debug("write refused: the card changed since it was read", "href", href, "if_match", etag)
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("target %q: %s: writing: %w", t.name, href, err)
	}
	drain(resp)
	if tag := normETag(resp.Header.Get("ETag")); tag != "" {
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
// ksync.ErrConflict. A card that is already gone is not an error.
func (t *Target) Delete(ctx context.Context, href, etag string) error {
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", matchETag(etag))
	}
	resp, err := t.c.do(ctx, request{method: http.MethodDelete, url: t.href(href), header: h},
		http.StatusOK, http.StatusNoContent, http.StatusAccepted)
	if statusOf(err) == http.StatusPreconditionFailed {
		// sabre/dav answers 412, not 404, when the card is already gone.
		if _, gerr := t.etag(ctx, t.href(href)); isNotFound(gerr) {
			return nil
		}
	}
	switch {
	case statusOf(err) == http.StatusPreconditionFailed:
		t.log.Debug("delete refused: the card changed since it was read", "href", href)
		return fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	case isNotFound(err):
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
		if p, ok := r.ok(); ok && p.ETag != "" {
			return normETag(p.ETag), nil
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
	if err := mkcol(ctx, t.c, t.coll, path.Base(strings.TrimSuffix(t.coll.Path, "/"))); err != nil {
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
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>` + xmlText(displayName) +
		`</D:displayname></D:prop></D:set></D:mkcol>`
	resp, err := c.do(ctx, request{method: "MKCOL", url: u, header: http.Header{"Content-Type": {`application/xml; charset="utf-8"`}}, body: []byte(body)},
		http.StatusCreated, http.StatusOK, http.StatusNoContent)
	if statusOf(err) == http.StatusMethodNotAllowed {
		return nil
	}
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}
