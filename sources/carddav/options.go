package carddav

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	gosync "sync"
	"time"

	"kith/internal/dav"
	"kith/sync/card"
)

// Options configure a Source or a Target.
type Options struct {
	// Name is the configured name of the source or target, used in errors
	// and logs.
	Name string
	// URL is, for a Source, an address book collection URL or a server URL
	// to discover address books from; for a Target, the collection to write
	// to (created when missing).
	URL string
	// Username and Password are sent with Basic auth when Username is set.
	// Password is the secret itself (see ReadPassword); it is never logged
	// or put in an error.
	Username string
	Password string
	// Addressbooks picks a Source's books by display name or last path
	// segment; empty means every book found. Ignored by a Target.
	Addressbooks []string
	// Exclude are collections a Source never reads: kith's own, such as
	// the collections its CardDAV targets write to. Reading them back would
	// turn kith's merged cards into records, and a contact deleted from its
	// real source would live on through its own merged card. Ignored by a
	// Target.
	Exclude []Excluded
	// ExcludeTokenPrefix, when set, skips every book whose sync-token
	// starts with it: the books kith's embedded server serves.
	ExcludeTokenPrefix string
	// DisplayName is, for a Target, the display name of the collection it
	// creates when missing; "" means DefaultDisplayName.
	DisplayName string
	// HTTPClient makes the requests; nil means a client with Timeout. Its
	// CheckRedirect is replaced: redirects are followed by hand so that a
	// PROPFIND stays a PROPFIND.
	HTTPClient *http.Client
	// Timeout bounds one request, body included; 0 means DefaultTimeout.
	// Ignored when HTTPClient is set.
	Timeout time.Duration
	// MaxParallel bounds the requests in flight at once (multiget batches
	// of a Source, writes of a Target); 0 means DefaultMaxParallel.
	MaxParallel int
	// BatchSize is the number of cards fetched in one addressbook-multiget;
	// 0 means DefaultBatchSize.
	BatchSize int
	// Rediscover is how long a Source trusts the address books it found
	// before it looks again; 0 means DefaultRediscover, a negative value
	// means on every Read.
	Rediscover time.Duration
	// MaxAnswer bounds one multistatus answer (a listing, a multiget
	// batch, a sync report), in bytes: a server that sends more is read no
	// further and the request fails naming the [limits] key; 0 means
	// DefaultMaxAnswer.
	MaxAnswer int64
	// Card bounds one card read from the server (its size measured on the
	// text as the server sends it, and its properties); a zero field means
	// no limit, though a single GET never reads more than 32 MiB. A Source
	// skips a card over a limit as a Problem (a *card.LimitError) and
	// fetches it again only once its ETag changes; a Target's Get fails for
	// it, naming the card.
	Card card.Limits
	// Probes, when set, is shared by every source and target on one
	// server: their change probes (getctag) then go one after another.
	// Radicale answers three getctags asked at once 2.6 times slower than
	// the same three in a row (scripts/bench-carddav.sh); nil lets each
	// probe go at once.
	Probes *ProbeGate
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger
}

// ProbeGate lets one change probe at a time reach a server. Its zero value
// is ready to use.
type ProbeGate struct{ mu gosync.Mutex }

// ProbeGates hands out one ProbeGate a server (scheme, host and port), for
// every source and target configured on it.
type ProbeGates map[string]*ProbeGate

// For returns the gate of the server rawURL names; nil for a URL that does
// not parse (its source or target fails on its own).
func (g ProbeGates) For(rawURL string) *ProbeGate {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	key := u.Scheme + "://" + dav.HostPort(u)
	if g[key] == nil {
		g[key] = &ProbeGate{}
	}
	return g[key]
}

// probe runs f alone among the probes that share g; a nil g runs it at
// once.
func (g *ProbeGate) probe(f func()) {
	if g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
	}
	f()
}

// Excluded is one collection a Source does not read.
type Excluded struct {
	// URL is the collection's URL.
	URL string
	// Why says whose it is, for messages: `the collection of target "cloud"`.
	Why string
}

// Defaults for Options left at zero.
const (
	DefaultTimeout     = 2 * time.Minute
	DefaultMaxParallel = 4
	DefaultBatchSize   = 100
	DefaultRediscover  = time.Hour
	// DefaultMaxAnswer holds the listing of a book of about 300,000 cards,
	// or a multiget batch of 100 cards with large photos.
	DefaultMaxAnswer = 128 << 20
	// DefaultDisplayName names a collection a Target creates, as phones
	// list it: not its path segment.
	DefaultDisplayName = "People (kith)"
)

// check validates o and fills in defaults; kind is "source" or "target".
func (o *Options) check(kind string) (*url.URL, error) {
	if o.Name == "" {
		return nil, fmt.Errorf("carddav %s: name: missing", kind)
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("%s %q: url: %w", kind, o.Name, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s %q: url: scheme must be http or https", kind, o.Name)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s %q: url: no host", kind, o.Name)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s %q: url: must not hold user or password (use username and password_file)", kind, o.Name)
	}
	u.RawQuery, u.Fragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	if o.MaxParallel <= 0 {
		o.MaxParallel = DefaultMaxParallel
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAnswer <= 0 {
		o.MaxAnswer = DefaultMaxAnswer
	}
	if o.Rediscover == 0 {
		o.Rediscover = DefaultRediscover
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return u, nil
}
