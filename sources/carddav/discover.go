package carddav

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// book is one address book a Source reads.
type book struct {
	url  *url.URL
	name string // display name, or "" when the server has none
	sync bool   // the server offers sync-collection on it
}

// segment returns the book's last path segment.
func (b book) segment() string {
	return path.Base(strings.TrimSuffix(b.url.Path, "/"))
}

// bookProps are the properties asked of a collection to know whether it is
// an address book and how to read it incrementally.
var bookProps = []string{"<D:resourcetype/>", "<D:displayname/>", "<D:sync-token/>", "<CS:getctag/>", "<D:supported-report-set/>"}

// discover finds the address books at the configured URL: the URL itself
// when it is one, else the books in the user's home set, found from the URL,
// from /.well-known/carddav on its host or from the host's root. The books are filtered by
// Options.Addressbooks.
func (s *Source) discover(ctx context.Context) ([]book, error) {
	books, err := s.discoverFrom(ctx, s.base)
	// Then the well-known URL (RFC 6764), then the server's root (sabre
	// without its well-known plugin answers there).
	for _, p := range []string{"/.well-known/carddav", "/"} {
		if err == nil && len(books) > 0 {
			break
		}
		if p == s.base.Path {
			continue
		}
		u := &url.URL{Scheme: s.base.Scheme, Host: s.base.Host, Path: p}
		s.log.Debug("looking for address books elsewhere on the server", "url", u.String(), "err", err)
		bs, werr := s.discoverFrom(ctx, u)
		if werr == nil && len(bs) > 0 {
			books, err = bs, nil
			break
		}
		if err == nil {
			err = werr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("discovering address books from %s: %w", redact(s.base), err)
	}
	if len(books) == 0 {
		return nil, fmt.Errorf("discovering address books from %s: none found", redact(s.base))
	}
	return s.filter(books)
}

// discoverFrom looks for books starting at u: a book, a home set, or
// anything that names the current user's principal or home set.
func (s *Source) discoverFrom(ctx context.Context, u *url.URL) ([]book, error) {
	props := append([]string{"<D:current-user-principal/>", "<C:addressbook-home-set/>"}, bookProps...)
	ms, final, err := s.c.propfind(ctx, u, "0", true, props...)
	if err != nil {
		return nil, err
	}
	var p prop
	for _, r := range ms.Responses {
		if q, ok := r.ok(); ok {
			p = q
			break
		}
	}
	if rt := p.ResourceType; rt != nil && rt.AddressBook != nil {
		return []book{{url: final, name: p.DisplayName, sync: p.SyncToken != "" || p.SupportedReports.sync()}}, nil
	}
	home, base := p.HomeSet, final
	if home == nil && p.Principal != nil && len(p.Principal.Hrefs) > 0 {
		pu, err := resolve(final, p.Principal.Hrefs[0])
		if err != nil {
			return nil, fmt.Errorf("current-user-principal: %w", err)
		}
		ms, pfinal, err := s.c.propfind(ctx, pu, "0", true, "<C:addressbook-home-set/>")
		if err != nil {
			return nil, fmt.Errorf("principal %s: %w", redact(pu), err)
		}
		for _, r := range ms.Responses {
			if q, ok := r.ok(); ok && q.HomeSet != nil {
				home, base = q.HomeSet, pfinal
				break
			}
		}
	}
	if home == nil || len(home.Hrefs) == 0 {
		return nil, nil
	}
	var books []book
	for _, h := range home.Hrefs {
		// The home set may be on another host (iCloud): resolve the href
		// against the URL that named it, keeping its host.
		hu, err := resolve(base, h)
		if err != nil {
			return nil, fmt.Errorf("addressbook-home-set: %w", err)
		}
		s.c.auth.trust(hu, base)
		bs, err := s.listBooks(ctx, hu)
		if err != nil {
			return nil, fmt.Errorf("home set %s: %w", redact(hu), err)
		}
		books = append(books, bs...)
	}
	return books, nil
}

// listBooks returns the address books in home.
func (s *Source) listBooks(ctx context.Context, home *url.URL) ([]book, error) {
	ms, final, err := s.c.propfind(ctx, home, "1", true, bookProps...)
	if err != nil {
		return nil, err
	}
	var books []book
	for _, r := range ms.Responses {
		p, ok := r.ok()
		if !ok || p.ResourceType == nil || p.ResourceType.AddressBook == nil || len(r.Hrefs) == 0 {
			continue
		}
		u, err := resolve(final, r.Hrefs[0])
		if err != nil {
			return nil, err
		}
		books = append(books, book{url: u, name: p.DisplayName, sync: p.SyncToken != "" || p.SupportedReports.sync()})
	}
	slices.SortFunc(books, func(a, b book) int { return strings.Compare(a.url.String(), b.url.String()) })
	return books, nil
}

// filter keeps the books Options.Addressbooks names. Every name must match
// a book: a name that matches none is an error, so that a typo or a server
// glitch does not read as an empty book.
func (s *Source) filter(books []book) ([]book, error) {
	if len(s.opts.Addressbooks) == 0 {
		return books, nil
	}
	var out []book
	var missing []string
	for _, want := range s.opts.Addressbooks {
		found := false
		for _, b := range books {
			if b.name == want || b.segment() == want {
				found = true
				if !slices.ContainsFunc(out, func(o book) bool { return o.url.String() == b.url.String() }) {
					out = append(out, b)
				}
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%q", want))
		}
	}
	if len(missing) > 0 {
		var have []string
		for _, b := range books {
			have = append(have, fmt.Sprintf("%q", b.segment()))
		}
		return nil, fmt.Errorf("addressbooks: %s not found (the server has %s)", strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	return out, nil
}

// isNotFound reports whether err is an HTTP 404 or 410.
func isNotFound(err error) bool {
	c := statusOf(err)
	return c == http.StatusNotFound || c == http.StatusGone
}

var errResync = errors.New("incremental state no longer valid")
