package sync

import (
	"context"
	"errors"

	"github.com/emersion/go-vcard"
)

// Source is anything kith reads contacts from. Sources are read-only: kith
// never writes to one.
type Source interface {
	// Name returns the source's configured name.
	Name() string
	// Read returns what the source holds. cursor is the Cursor of the last
	// Snapshot this source returned and kith stored ("" on a first run or
	// after a reset). A source that can read incrementally returns only what
	// changed since cursor, with Full false; any other returns everything,
	// with Full true. Read returns an error only when the source as a whole
	// could not be read; unreadable items go into Snapshot.Problems.
	Read(ctx context.Context, cursor string) (Snapshot, error)
}

// Target is a place the merged set is written to: a vdir folder, a CardDAV
// collection. Each card is an entry named by its href (for kith's own cards
// "<uid>.vcf"). Writes are conditional on the entry's ETag.
type Target interface {
	// Name returns the target's configured name.
	Name() string
	// List returns every entry the target holds now: href → ETag.
	List(ctx context.Context) (map[string]string, error)
	// Get returns the cards of the given hrefs. An href that is gone is left
	// out of the map.
	Get(ctx context.Context, hrefs []string) (map[string]Entry, error)
	// Put writes c at href. With etag "" the entry must not exist yet
	// (If-None-Match: *); otherwise it must still have that ETag (If-Match).
	// It returns the entry's new ETag, or ErrConflict when the condition
	// failed.
	Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error)
	// Delete removes href if it still has etag, else returns ErrConflict.
	Delete(ctx context.Context, href, etag string) error
}

// ParallelTarget is a Target that takes several writes at once (a CardDAV
// server); the engine keeps at most MaxParallel writes in flight.
type ParallelTarget interface {
	Target
	MaxParallel() int
}

// Entry is one card as a target holds it.
type Entry struct {
	// ETag is the entry's current version tag.
	ETag string
	// Card is the entry's content.
	Card vcard.Card
}

// ErrConflict means a conditional write failed: the entry changed since it
// was read (HTTP 412).
var ErrConflict = errors.New("precondition failed: entry changed since it was read")
