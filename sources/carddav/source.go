package carddav

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"kith/internal/dav"
	ksync "kith/sync"
	"kith/sync/card"
)

// Source reads the address books of one CardDAV account as a kith source.
// It never writes to the server. A Source may be used by one Read at a time.
type Source struct {
	name string
	base *url.URL
	opts Options
	c    *client
	log  *slog.Logger
	now  func() time.Time

	mu    gosync.Mutex
	found []Book // what the last discovery found, for Books
}

var _ ksync.Source = (*Source)(nil)

// NewSource returns a source for opts. It checks the options but makes no
// request: the server is first asked on Read.
func NewSource(opts Options) (*Source, error) {
	u, err := opts.check("source")
	if err != nil {
		return nil, err
	}
	return &Source{name: opts.Name, base: u, opts: opts, c: newClient(&opts, u),
		log: opts.Logger.With("source", opts.Name), now: time.Now}, nil
}

// Name returns the source's configured name.
func (s *Source) Name() string { return s.name }

// cursorVersion changes when the cursor's meaning does; an older cursor
// leads to a full read.
const cursorVersion = 1

// cursor is what a Source keeps between reads, as compact JSON.
type cursor struct {
	V int `json:"v"`
	// Key is the configured URL and book filter: a change means a full read.
	Key string `json:"k"`
	// Found is when the books were discovered (Unix seconds).
	Found int64 `json:"found"`
	// Books are keyed by the book's URL.
	Books map[string]*bookState `json:"books"`
	// Auth is the login scheme the server asked for, when a later process
	// may send it at once (Basic).
	Auth string `json:"a,omitempty"`
}

// bookState is the incremental state of one address book.
type bookState struct {
	Name string `json:"n,omitempty"`
	// Sync is true when the book is read with sync-collection, Token being
	// the last sync token.
	Sync  bool   `json:"s,omitempty"`
	Token string `json:"t,omitempty"`
	// CTag and ETags (member name → digest of its ETag) are the state of a
	// book read with getctag and an ETag listing.
	CTag  string            `json:"c,omitempty"`
	ETags map[string]string `json:"e,omitempty"`
	// Retry are members whose card could not be read last time (sync
	// mode), fetched again on the next read.
	Retry []string `json:"r,omitempty"`
}

func (s *Source) cursorKey() string {
	return s.base.String() + "\n" + strings.Join(s.opts.Addressbooks, "\n") + s.excludeKey()
}

// excludeKey is the part of the cursor key that says which books are
// kith's own: a change leads to discovery and a full read.
func (s *Source) excludeKey() string {
	if len(s.opts.Exclude) == 0 && s.opts.ExcludeTokenPrefix == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nexclude")
	for _, e := range s.opts.Exclude {
		b.WriteString("\n" + e.URL)
	}
	b.WriteString("\n" + s.opts.ExcludeTokenPrefix)
	return b.String()
}

// decodeCursor returns the state in raw, or nil when there is none or it
// cannot be used (another URL, another version, unreadable).
func (s *Source) decodeCursor(raw string) *cursor {
	if raw == "" {
		return nil
	}
	var c cursor
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.V != cursorVersion || c.Key != s.cursorKey() || c.Books == nil {
		s.log.Info("stored cursor not usable; reading in full", "err", err)
		return nil
	}
	s.c.auth.Remember(c.Auth)
	return &c
}

// Read returns the cards of the source's address books. With the cursor
// of the last Read it returns only what changed since (Full false); on a
// first run, after the set of books changed, or when the server no longer
// accepts the stored sync token, it reads everything (Full true). Record IDs
// are the cards' URL paths. A card that cannot be fetched or decoded is a
// Problem and is fetched again on the next Read; one over Options.Card is a
// Problem once, and fetched again only when its ETag changes. Read fails,
// and the stored state should stay as it was, when a book cannot be listed
// or the server cannot be reached.
func (s *Source) Read(ctx context.Context, raw string) (ksync.Snapshot, error) {
	prev := s.decodeCursor(raw)
	now := s.now()
	var books []book
	fresh := prev != nil && s.opts.Rediscover > 0 && now.Sub(time.Unix(prev.Found, 0)) < s.opts.Rediscover && now.Unix() >= prev.Found
	next := &cursor{V: cursorVersion, Key: s.cursorKey(), Books: map[string]*bookState{}}
	if fresh {
		next.Found = prev.Found
		for k, st := range prev.Books {
			u, err := url.Parse(k)
			if err != nil {
				fresh = false
				break
			}
			books = append(books, book{url: u, name: st.Name, sync: st.Sync})
		}
		slices.SortFunc(books, func(a, b book) int { return strings.Compare(a.url.String(), b.url.String()) })
	}
	if !fresh {
		var err error
		if books, err = s.discover(ctx); err != nil {
			return ksync.Snapshot{}, fmt.Errorf("source %q: %w", s.name, err)
		}
		next.Found = now.Unix()
		if prev != nil && !sameBooks(books, prev) {
			s.log.Info("address books changed; reading in full", "books", len(books))
			prev = nil
		}
	}
	if prev != nil {
		snap, err := s.readChanges(ctx, books, prev, next)
		if err == nil {
			return snap, nil
		}
		if !errors.Is(err, errResync) {
			return ksync.Snapshot{}, fmt.Errorf("source %q: %w", s.name, err)
		}
		s.log.Info("incremental state no longer valid; reading in full", "reason", err)
		if dav.IsNotFound(err) {
			// A book went away: look again at what the account holds.
			if books, err = s.discover(ctx); err != nil {
				return ksync.Snapshot{}, fmt.Errorf("source %q: %w", s.name, err)
			}
			next.Found = now.Unix()
		}
		next.Books = map[string]*bookState{}
	}
	snap, err := s.readAll(ctx, books, next)
	if err != nil {
		return ksync.Snapshot{}, fmt.Errorf("source %q: %w", s.name, err)
	}
	return snap, nil
}

func sameBooks(books []book, c *cursor) bool {
	if len(books) != len(c.Books) {
		return false
	}
	for _, b := range books {
		if _, ok := c.Books[b.url.String()]; !ok {
			return false
		}
	}
	return true
}

// listing is what a book holds or what changed in it: member URL path →
// member URL and ETag.
type listing map[string]member

type member struct {
	url  *url.URL
	etag string
}

// readAll reads every card of every book.
func (s *Source) readAll(ctx context.Context, books []book, next *cursor) (ksync.Snapshot, error) {
	snap := ksync.Snapshot{Source: s.name, Full: true}
	for _, b := range books {
		st := &bookState{Name: b.name, Sync: b.sync}
		var members listing
		var err error
		if b.sync {
			// The ctag before the sync (see bookChanges); a server without
			// one leaves it empty and is asked with sync-collection each time.
			if ctag, cerr := s.freshCtag(ctx, b); cerr == nil {
				st.CTag = ctag
			}
			members, _, st.Token, err = syncCollection(ctx, s.c, b, "")
		} else {
			st.CTag, err = s.freshCtag(ctx, b)
			if err == nil {
				members, err = s.listMembers(ctx, b)
			}
			st.ETags = map[string]string{}
			for _, m := range members {
				st.ETags[memberName(b, m.url)] = etagDigest(m.etag)
			}
		}
		if err != nil {
			return ksync.Snapshot{}, fmt.Errorf("book %s: listing: %w", redact(b.url), err)
		}
		if err := s.fetchInto(ctx, b, st, members, &snap); err != nil {
			return ksync.Snapshot{}, err
		}
		next.Books[b.url.String()] = st
	}
	return s.finish(snap, next)
}

// readChanges reads what changed in every book since prev. It returns an
// error wrapping errResync when a book must be read in full.
func (s *Source) readChanges(ctx context.Context, books []book, prev, next *cursor) (ksync.Snapshot, error) {
	// Books are asked at once: a server answers a sync-collection on a big
	// book slowly, and the answers do not depend on each other.
	type result struct {
		st   *bookState
		part ksync.Snapshot
		err  error
	}
	results := make([]result, len(books))
	sem := make(chan struct{}, max(1, s.opts.MaxParallel))
	var wg gosync.WaitGroup
	for i, b := range books {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &results[i]
			r.st, r.part, r.err = s.bookChanges(ctx, b, prev.Books[b.url.String()])
		}()
	}
	wg.Wait()
	snap := ksync.Snapshot{Source: s.name}
	for i, b := range books {
		r := results[i]
		if r.err != nil {
			return ksync.Snapshot{}, r.err
		}
		snap.Records = append(snap.Records, r.part.Records...)
		snap.Deleted = append(snap.Deleted, r.part.Deleted...)
		snap.Problems = append(snap.Problems, r.part.Problems...)
		next.Books[b.url.String()] = r.st
	}
	return s.finish(snap, next)
}

// bookChanges reads what changed in one book since old: the new book
// state, and the changed records, deletions and problems.
func (s *Source) bookChanges(ctx context.Context, b book, old *bookState) (*bookState, ksync.Snapshot, error) {
	snap := ksync.Snapshot{Source: s.name}
	st := &bookState{Name: old.Name, Sync: old.Sync}
	changed := listing{}
	var gone []string
	var err error
	if old.Sync {
		// The ctag first: on many servers (Radicale among them) it costs
		// less than a sync-collection, and it is all a book that did not
		// change needs. It is asked before the sync, so that a change in
		// between is seen next time.
		ctag, cerr := s.ctag(ctx, b)
		if cerr == nil && ctag != "" && ctag == old.CTag && old.Token != "" && len(old.Retry) == 0 {
			st.Token, st.CTag = old.Token, ctag
			return st, snap, nil
		}
		if cerr == nil {
			st.CTag = ctag
		}
		changed, gone, st.Token, err = syncCollection(ctx, s.c, b, old.Token)
		if err != nil && old.Token != "" && dav.InvalidToken(err) {
			return nil, ksync.Snapshot{}, fmt.Errorf("book %s: sync token: %w: %w", redact(b.url), errResync, err)
		}
		if err == nil && dav.TokenWentBack(old.Token, st.Token) {
			return nil, ksync.Snapshot{}, fmt.Errorf("book %s: sync token: %w: the server's token went back from %s to %s (restored from a backup?)",
				redact(b.url), errResync, old.Token, st.Token)
		}
		for _, name := range old.Retry {
			u := memberURL(b, name)
			if _, ok := changed[u.Path]; !ok && !slices.Contains(gone, u.Path) {
				changed[u.Path] = member{url: u}
			}
		}
	} else {
		st.CTag, err = s.ctag(ctx, b)
		if err == nil && (st.CTag == "" || st.CTag != old.CTag) {
			var all listing
			if all, err = s.listMembers(ctx, b); err == nil {
				st.ETags = map[string]string{}
				for p, m := range all {
					name := memberName(b, m.url)
					d := etagDigest(m.etag)
					st.ETags[name] = d
					if old.ETags[name] != d {
						changed[p] = m
					}
				}
				for name := range old.ETags {
					if _, ok := st.ETags[name]; !ok {
						gone = append(gone, memberURL(b, name).Path)
					}
				}
			}
		} else {
			st.ETags = old.ETags
		}
	}
	if dav.IsNotFound(err) {
		return nil, ksync.Snapshot{}, fmt.Errorf("book %s: %w: %w", redact(b.url), errResync, err)
	}
	if err != nil {
		return nil, ksync.Snapshot{}, fmt.Errorf("book %s: listing changes: %w", redact(b.url), err)
	}
	snap.Deleted = append(snap.Deleted, gone...)
	if err := s.fetchInto(ctx, b, st, changed, &snap); err != nil {
		return nil, ksync.Snapshot{}, err
	}

	return st, snap, nil
}

// fetchInto fetches the cards of members into snap and records in st
// what must be fetched again next time.
func (s *Source) fetchInto(ctx context.Context, b book, st *bookState, members listing, snap *ksync.Snapshot) error {
	if len(members) == 0 {
		return nil
	}
	urls := make([]*url.URL, 0, len(members))
	for _, m := range members {
		urls = append(urls, m.url)
	}
	slices.SortFunc(urls, func(a, b *url.URL) int { return strings.Compare(a.Path, b.Path) })
	res, err := s.c.fetch(ctx, b.url, urls, s.opts.BatchSize, s.opts.MaxParallel)
	if err != nil {
		return fmt.Errorf("book %s: fetching cards: %w", redact(b.url), err)
	}
	// seen keeps the ETag of a card read, or skipped for good at it, so
	// that the next read fetches it only when it changes.
	seen := func(name, listed, etag string) {
		if st.Sync {
			return // the sync token moves past it
		}
		if st.ETags == nil {
			st.ETags = map[string]string{}
		}
		if _, ok := st.ETags[name]; !ok || listed == "" {
			st.ETags[name] = etagDigest(etag)
		}
	}
	for _, u := range urls {
		p := u.Path
		name := memberName(b, u)
		f, bad := res.problems[p]
		var over *card.LimitError
		switch {
		case res.gone[p]:
			if !snap.Full {
				snap.Deleted = append(snap.Deleted, p)
			}
			delete(st.ETags, name)
		case bad && errors.As(f.err, &over):
			// Over a limit it stays at this ETag: reported once, and not
			// fetched again until it changes. Its last good version is
			// kept (a Problem is no deletion).
			snap.Problems = append(snap.Problems, ksync.Problem{Source: s.name, ID: p, Err: f.err})
			seen(name, members[p].etag, f.etag)
		case bad:
			snap.Problems = append(snap.Problems, ksync.Problem{Source: s.name, ID: p, Err: f.err})
			if st.Sync {
				st.Retry = append(st.Retry, name)
			} else {
				// Forget its ETag and the ctag so the next read lists the
				// book and fetches the card again.
				delete(st.ETags, name)
				st.CTag = ""
			}
		default:
			f := res.cards[p]
			seen(name, members[p].etag, f.etag)
			snap.Records = append(snap.Records, ksync.Record{Source: s.name, ID: p, Card: f.card, Hash: card.Hash(f.card), Seen: card.Revision(f.card)})
		}
	}
	return nil
}

func (s *Source) finish(snap ksync.Snapshot, next *cursor) (ksync.Snapshot, error) {
	next.Auth = s.c.auth.Learned()
	b, err := json.Marshal(next)
	if err != nil {
		return ksync.Snapshot{}, fmt.Errorf("encoding cursor: %w", err)
	}
	snap.Cursor = string(b)
	slices.SortFunc(snap.Records, func(a, b ksync.Record) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(snap.Deleted)
	snap.Deleted = slices.Compact(snap.Deleted)
	if len(snap.Problems) > 0 {
		s.log.Warn("cards skipped", "problems", len(snap.Problems), "records", len(snap.Records))
	}
	return snap, nil
}

// memberName returns u relative to the book, or its whole path when it
// lies elsewhere.
func memberName(b book, u *url.URL) string {
	dir := strings.TrimSuffix(b.url.Path, "/") + "/"
	if name, ok := strings.CutPrefix(u.Path, dir); ok && name != "" {
		return name
	}
	return u.Path
}

// memberURL is the inverse of memberName.
func memberURL(b book, name string) *url.URL {
	if strings.HasPrefix(name, "/") {
		u := *b.url
		u.Path, u.RawPath = name, ""
		return &u
	}
	return b.url.JoinPath(url.PathEscape(name))
}

// etagDigest returns a short digest of an ETag: enough to see it changed,
// and much smaller than the ETags of some servers.
func etagDigest(etag string) string {
	h := fnv.New64a()
	h.Write([]byte(etag))
	return strconv.FormatUint(h.Sum64(), 36)
}

// freshCtag returns the getctag discovery saw in this Read, or asks it.
func (s *Source) freshCtag(ctx context.Context, b book) (string, error) {
	if b.discovered {
		return b.ctag, nil
	}
	return s.ctag(ctx, b)
}

// ctag returns the book's getctag, or "" when the server has none.
func (s *Source) ctag(ctx context.Context, b book) (ctag string, err error) {
	s.opts.Probes.probe(func() { ctag, err = dav.CTag(ctx, s.c.doer(false), b.url) })
	return ctag, err
}

// listMembers lists the cards in a book with their ETags.
func (s *Source) listMembers(ctx context.Context, b book) (listing, error) {
	ms, final, err := s.c.propfind(ctx, b.url, "1", false, "<D:resourcetype/>", "<D:getetag/>")
	if err != nil {
		return nil, err
	}
	out := listing{}
	for _, r := range ms.Responses {
		p, ok := r.OK()
		if !ok || len(r.Hrefs) == 0 || (p.ResourceType != nil && p.ResourceType.Collection != nil) {
			continue
		}
		u, err := dav.Resolve(final, r.Hrefs[0])
		if err != nil || dav.SamePath(u.Path, b.url.Path) {
			continue
		}
		out[u.Path] = member{url: u, etag: dav.NormETag(p.ETag)}
	}
	return out, nil
}

// syncCollection asks for what changed in b since token ("" for
// everything): changed or new members with their ETags, the paths of
// removed members, and the new token.
func syncCollection(ctx context.Context, c *client, b book, token string) (changed listing, gone []string, newToken string, err error) {
	ch, err := dav.SyncCollection(ctx, c.doer(false), b.url, token)
	if err != nil {
		return nil, nil, "", err
	}
	changed = listing{}
	for p, m := range ch.Changed {
		changed[p] = member{url: m.URL, etag: m.ETag}
	}
	return changed, ch.Gone, ch.Token, nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
