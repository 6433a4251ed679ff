package davserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// Target returns the book as a ksync.Target named name, for kith's engine
// to write the merged set into. Its hrefs are card names inside the book
// ("<uid>.vcf"); its writes follow the rules HTTP clients' writes follow
// (same ETags, same conditions, same change log), so a card edited on a
// phone shows up as a changed ETag, a card created on a phone as a new href
// and a card deleted on a phone as a missing href.
func (s *Server) Target(name string) ksync.Target { return &target{s: s, name: name} }

type target struct {
	s    *Server
	name string
}

func (t *target) Name() string { return t.name }

// List returns every card's href and ETag.
func (t *target) List(ctx context.Context) (map[string]string, error) {
	out, err := t.s.store.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.name, err)
	}
	return out, nil
}

// Get returns the cards at hrefs as stored (a card a client wrote as vCard
// 4.0 comes back as 4.0). Hrefs that are gone are left out.
func (t *target) Get(ctx context.Context, hrefs []string) (map[string]ksync.Entry, error) {
	out := make(map[string]ksync.Entry, len(hrefs))
	for _, href := range hrefs {
		st, err := t.s.store.get(ctx, href)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t.name, err)
		}
		c, err := card.Decode(st.Data)
		if err != nil {
			return nil, fmt.Errorf("target %q: card %s: decoding: %w", t.name, href, err)
		}
		out[href] = ksync.Entry{ETag: st.ETag, Card: c}
	}
	return out, nil
}

// Put stores c, converted to vCard 3.0, at href: with etag "" only when
// href does not exist, else only when it still has etag (ErrConflict
// otherwise). Writing what the card already holds changes nothing.
func (t *target) Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error) {
	if err := checkName(href); err != nil {
		return "", fmt.Errorf("target %q: %w", t.name, err)
	}
	uid := c.Value(vcard.FieldUID)
	if err := checkUID(uid); err != nil {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	data := card.EncodeBytes(card.ToV3(c))
	cnd := cond{ifNoneMatch: []string{"*"}}
	if etag != "" {
		cnd = cond{ifMatch: []string{etag}}
	}
	newTag, _, err := t.s.store.put(ctx, href, uidKey(uid, href), data, cnd)
	if errors.Is(err, errPrecondition) {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	return newTag, nil
}

// Delete removes href if it still has etag, else returns ErrConflict.
func (t *target) Delete(ctx context.Context, href, etag string) error {
	if etag == "" {
		return fmt.Errorf("target %q: %s: delete without an etag", t.name, href)
	}
	err := t.s.store.remove(ctx, href, cond{ifMatch: []string{etag}})
	if errors.Is(err, errPrecondition) || errors.Is(err, errNotFound) {
		return fmt.Errorf("target %q: %s: %w", t.name, href, ksync.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	return nil
}
