package carddav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"

	"github.com/emersion/go-vcard"

	"kith/internal/dav"
	"kith/sync/card"
)

// fetched is one card read from the server, or (err set, card nil) why it
// could not be.
type fetched struct {
	etag string
	card vcard.Card
	err  error
}

// fetchResult is what fetching a set of members gave. Keys are URL paths.
type fetchResult struct {
	cards map[string]fetched
	gone  map[string]bool
	// problems are the cards that could not be read or decoded (err set),
	// with the ETag the server gave them when it did.
	problems map[string]fetched
}

func newFetchResult() fetchResult {
	return fetchResult{cards: map[string]fetched{}, gone: map[string]bool{}, problems: map[string]fetched{}}
}

// maxCardSize bounds the body of one single GET when Options.Card sets no
// card size.
const maxCardSize = 32 << 20

// fetch reads the cards at members, all in collection coll: with
// addressbook-multiget in batches, up to parallel at once, and single GETs
// for the members of a batch that failed or that the batch left out. A
// member that is gone is in gone; a card that cannot be read or decoded is
// in problems, among them a card over the client's card limits (a
// *card.LimitError; a GET reads no more of a card than the size limit, and
// a multiget answer over Options.MaxAnswer is read no further and its
// batch read one by one). fetch fails only when the server cannot be
// reached (a network error, or ctx done), so that the caller's state stays
// as it was.
func (c *client) fetch(ctx context.Context, coll *url.URL, members []*url.URL, batch, parallel int) (fetchResult, error) {
	res := newFetchResult()
	var mu gosync.Mutex
	var batches [][]*url.URL
	for len(members) > 0 {
		n := min(batch, len(members))
		batches = append(batches, members[:n])
		members = members[n:]
	}
	err := forEach(ctx, len(batches), parallel, func(ctx context.Context, i int) error {
		part, err := c.fetchBatch(ctx, coll, batches[i])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for k, v := range part.cards {
			res.cards[k] = v
		}
		for k := range part.gone {
			res.gone[k] = true
		}
		for k, v := range part.problems {
			res.problems[k] = v
		}
		return nil
	})
	return res, err
}

// fetchBatch fetches one batch with a multiget, falling back to single GETs.
func (c *client) fetchBatch(ctx context.Context, coll *url.URL, members []*url.URL) (fetchResult, error) {
	res := newFetchResult()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`)
	for _, m := range members {
		b.WriteString("<D:href>" + dav.XMLText(m.EscapedPath()) + "</D:href>")
	}
	b.WriteString("</C:addressbook-multiget>")
	ms, final, err := c.multistatus(ctx, request{method: "REPORT", url: coll, header: http.Header{"Depth": {"1"}}, body: []byte(b.String())})
	if err != nil && ctx.Err() != nil {
		return res, err
	}
	var retry []*url.URL
	if err != nil {
		// Servers fail a whole multiget for one entry they cannot serve,
		// a cut connection fails it too, and so does an answer over
		// MaxAnswer (a card far over the card size, a server that sends
		// without end): read the batch one by one, each GET read no
		// further than one card may be.
		retry = members
	} else {
		want := map[string]*url.URL{}
		for _, m := range members {
			want[m.Path] = m
		}
		for _, r := range ms.Responses {
			p, ok := r.OK()
			for _, h := range r.Hrefs {
				u, err := dav.Resolve(final, h)
				if err != nil {
					continue
				}
				if _, asked := want[u.Path]; !asked {
					continue
				}
				switch {
				case dav.Code(r.Status) == http.StatusNotFound || dav.Code(r.Status) == http.StatusGone:
					res.gone[u.Path] = true
				case ok && p.AddressData != nil:
					f := fetched{etag: dav.NormETag(p.ETag)}
					if f.card, f.err = decodeCard([]byte(*p.AddressData), c.lim); f.err != nil {
						res.problems[u.Path] = f
					} else {
						res.cards[u.Path] = f
					}
				default:
					continue // not served in the batch: try alone
				}
				delete(want, u.Path)
			}
		}
		for _, m := range members {
			if _, left := want[m.Path]; left {
				retry = append(retry, m)
			}
		}
	}
	for _, m := range retry {
		f, err := c.get(ctx, m)
		var over *card.LimitError
		switch {
		case err == nil:
			res.cards[m.Path] = f
		case dav.IsNotFound(err):
			res.gone[m.Path] = true
		case dav.StatusOf(err) != 0 && dav.StatusOf(err) != http.StatusUnauthorized || errors.Is(err, errDecode) || errors.As(err, &over):
			f.err = err
			res.problems[m.Path] = f
		default:
			return res, err
		}
	}
	return res, nil
}

var errDecode = errors.New("decoding card")

// decodeCard decodes one card as kith reads it, within lim: the size is
// measured on the text as the server sent it, before anything is decoded.
// A card over a limit is a *card.LimitError (not wrapped: it says all),
// any other that does not decode wraps errDecode.
func decodeCard(data []byte, lim card.Limits) (vcard.Card, error) {
	if lim.Size > 0 && int64(len(data)) > lim.Size {
		return nil, &card.LimitError{Key: "card_size", What: "card", Got: int64(len(data)), Max: lim.Size}
	}
	c, err := lim.Decode(data)
	if over := (*card.LimitError)(nil); errors.As(err, &over) {
		return nil, over
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecode, err)
	}
	return c, nil
}

// get fetches one card with a GET. Its body is read no further than the
// card size limit (maxCardSize when there is none): a card over it is a
// *card.LimitError, returned with the card's ETag.
func (c *client) get(ctx context.Context, u *url.URL) (fetched, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: u, header: http.Header{"Accept": {"text/vcard, text/x-vcard;q=0.5"}}}, http.StatusOK)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	f := fetched{etag: dav.NormETag(resp.Header.Get("ETag"))}
	limit := c.lim.Size
	if limit <= 0 {
		limit = maxCardSize
	}
	if cl := resp.ContentLength; cl > limit {
		// Said up front: nothing of it is read.
		return f, &card.LimitError{Key: "card_size", What: "card", Got: cl, Max: limit}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fetched{}, fmt.Errorf("GET %s: reading body: %w", redact(u), err)
	}
	if int64(len(data)) > limit {
		return f, &card.LimitError{Key: "card_size", What: "card", Max: limit}
	}
	if cl := resp.ContentLength; cl >= 0 && int64(len(data)) != cl {
		return fetched{}, fmt.Errorf("GET %s: body cut short (%d of %d bytes)", redact(u), len(data), cl)
	}
	if f.card, err = decodeCard(data, c.lim); err != nil {
		return f, err
	}
	return f, nil
}

// forEach calls fn for 0..n-1, at most parallel at once, and returns the
// first error; after an error no new calls start and the context given to
// the running ones is cancelled.
func forEach(ctx context.Context, n, parallel int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(parallel, 1))
	var wg gosync.WaitGroup
	var once gosync.Once
	var first error
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel(err) })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
