package carddav

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"kith/internal/dav"
)

// book is one address book a Source reads.
type book struct {
	url  *url.URL
	name string // display name, or "" when the server has none
	sync bool   // the server offers sync-collection on it
	// token is the sync-token discovery saw, to tell kith's own books.
	token string
	// ctag is the getctag discovery saw; discovered says the book was
	// found in this Read, so ctag is fresh and need not be asked again.
	ctag       string
	discovered bool
}

// Book is an address book a Source found, and whether it reads it.
type Book struct {
	// URL is the book's URL, without user info.
	URL string
	// Name is its display name, or "".
	Name string
	// Skipped says why the book is not read; "" when it is.
	Skipped string
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
	return s.filter(ctx, books)
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
		if q, ok := r.OK(); ok {
			p = q
			break
		}
	}
	if rt := p.ResourceType; rt != nil && rt.AddressBook != nil {
		return []book{{url: final, name: p.DisplayName, sync: p.SyncToken != "" || p.SupportedReports.Sync(), token: p.SyncToken, ctag: p.CTag, discovered: true}}, nil
	}
	home, base := p.HomeSet, final
	if home == nil && p.Principal != nil && len(p.Principal.Hrefs) > 0 {
		pu, err := dav.Resolve(final, p.Principal.Hrefs[0])
		if err != nil {
			return nil, fmt.Errorf("current-user-principal: %w", err)
		}
		ms, pfinal, err := s.c.propfind(ctx, pu, "0", true, "<C:addressbook-home-set/>")
		if err != nil {
			return nil, fmt.Errorf("principal %s: %w", redact(pu), err)
		}
		for _, r := range ms.Responses {
			if q, ok := r.OK(); ok && q.HomeSet != nil {
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
		hu, err := dav.Resolve(base, h)
		if err != nil {
			return nil, fmt.Errorf("addressbook-home-set: %w", err)
		}
		s.c.auth.Trust(hu, base)
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
		p, ok := r.OK()
		if !ok || p.ResourceType == nil || p.ResourceType.AddressBook == nil || len(r.Hrefs) == 0 {
			continue
		}
		u, err := dav.Resolve(final, r.Hrefs[0])
		if err != nil {
			return nil, err
		}
		books = append(books, book{url: u, name: p.DisplayName, sync: p.SyncToken != "" || p.SupportedReports.Sync(), token: p.SyncToken, ctag: p.CTag, discovered: true})
	}
	slices.SortFunc(books, func(a, b book) int { return strings.Compare(a.url.String(), b.url.String()) })
	return books, nil
}

// filter leaves out kith's own books (Options.Exclude and
// ExcludeTokenPrefix), then keeps the books Options.Addressbooks names.
// Every name must match a book: a name that matches none is an error, so
// that a typo or a server glitch does not read as an empty book. It records
// every book found, read or skipped, for Books.
func (s *Source) filter(ctx context.Context, books []book) ([]book, error) {
	own := s.ownBooks(ctx)
	var found []Book
	var mine, others []book
	for _, b := range books {
		if why := s.whose(b, own); why != "" {
			found = append(found, Book{URL: redact(b.url), Name: b.name, Skipped: "kith's own: " + why})
			mine = append(mine, b)
			continue
		}
		others = append(others, b)
	}
	out := others
	var missing []string
	if len(s.opts.Addressbooks) > 0 {
		out = nil
		for _, want := range s.opts.Addressbooks {
			match := func(b book) bool { return b.name == want || b.segment() == want }
			if slices.ContainsFunc(others, match) {
				for _, b := range others {
					if match(b) && !slices.ContainsFunc(out, func(o book) bool { return o.url.String() == b.url.String() }) {
						out = append(out, b)
					}
				}
				continue
			}
			if i := slices.IndexFunc(mine, match); i >= 0 {
				return nil, fmt.Errorf("addressbooks: %q is kith's own (%s); kith never reads what it writes", want, s.whose(mine[i], own))
			}
			missing = append(missing, fmt.Sprintf("%q", want))
		}
	}
	if len(missing) > 0 {
		var have []string
		for _, b := range others {
			have = append(have, fmt.Sprintf("%q", b.segment()))
		}
		return nil, fmt.Errorf("addressbooks: %s not found (the server has %s)", strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	for _, b := range others {
		f := Book{URL: redact(b.url), Name: b.name}
		if !slices.ContainsFunc(out, func(o book) bool { return o.url.String() == b.url.String() }) {
			f.Skipped = "not named in addressbooks"
		}
		found = append(found, f)
	}
	slices.SortFunc(found, func(a, b Book) int { return strings.Compare(a.URL, b.URL) })
	s.mu.Lock()
	s.found = found
	s.mu.Unlock()
	if len(out) == 0 && len(mine) > 0 {
		var whys []string
		for _, b := range mine {
			whys = append(whys, fmt.Sprintf("%s (%s)", redact(b.url), s.whose(b, own)))
		}
		return nil, fmt.Errorf("every address book found is kith's own, and kith never reads what it writes: %s; point url at the books to read", strings.Join(whys, ", "))
	}
	for _, b := range mine {
		s.log.Debug("address book skipped: kith's own", "url", redact(b.url), "why", s.whose(b, own))
	}
	return out, nil
}

// ownURL is a collection of kith's own, its URL normalised.
type ownURL struct {
	key string
	why string
}

// ownBooks returns the normalised URLs of Options.Exclude. A collection on
// the source's own host is asked for once (a PROPFIND following redirects),
// so that a URL the server redirects is compared where it leads.
func (s *Source) ownBooks(ctx context.Context) []ownURL {
	var out []ownURL
	for _, e := range s.opts.Exclude {
		u, err := url.Parse(e.URL)
		if err != nil || u.Host == "" {
			continue
		}
		out = append(out, ownURL{collectionKey(u), e.Why})
		if dav.HostPort(u) != dav.HostPort(s.base) {
			continue
		}
		if _, final, err := s.c.propfind(ctx, u, "0", true, "<D:resourcetype/>"); err == nil && collectionKey(final) != collectionKey(u) {
			out = append(out, ownURL{collectionKey(final), e.Why})
		}
	}
	return out
}

// whose says whose book b is when it is kith's own, else "".
func (s *Source) whose(b book, own []ownURL) string {
	k := collectionKey(b.url)
	for _, o := range own {
		if o.key == k {
			return o.why
		}
	}
	if p := s.opts.ExcludeTokenPrefix; p != "" && strings.HasPrefix(b.token, p) {
		return "served by kith's embedded server"
	}
	return ""
}

// collectionKey normalises a collection URL for comparison: scheme and host
// in lower case, the default port made explicit, the path unescaped and
// cleaned, with no trailing slash, no query, no user.
func collectionKey(u *url.URL) string {
	p := path.Clean("/" + u.Path)
	return strings.ToLower(u.Scheme) + "://" + dav.HostPort(u) + strings.TrimSuffix(p, "/")
}

// SameCollection says whether URLs a and b name the same collection as
// written (scheme and host case, default port, escaping, trailing slash
// aside). Redirects are not followed: a Source does that when it compares.
func SameCollection(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil || ua.Host == "" {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil || ub.Host == "" {
		return false
	}
	return collectionKey(ua) == collectionKey(ub)
}

// Books returns the address books the last discovery found, each with why
// it is skipped when it is not read. It is empty before the first Read
// that looked for books.
func (s *Source) Books() []Book {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.found)
}

var errResync = errors.New("incremental state no longer valid")
