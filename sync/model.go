package sync

import (
	"time"

	"github.com/emersion/go-vcard"
)

// Record is one contact as one source holds it.
type Record struct {
	// Source is the configured name of the source.
	Source string
	// ID identifies the record within its source: a file path relative to the
	// source folder (with "#N" for the Nth card of a multi-card file), or an href.
	ID string
	// Card is the record's content, values raw as described in package card.
	Card vcard.Card
	// Hash identifies the content; equal hashes mean equal content.
	Hash string
	// Seen is when the source says the record was made or last changed: the
	// card's REV, else the file's modification time. Zero when unknown.
	Seen time.Time
	// Scanned is true for records from a business-card scan: their first
	// sighting is a first meeting, and their text may carry OCR slips.
	Scanned bool
}

// Key returns the record's identity across sources: source and ID.
func (r *Record) Key() RecordKey { return RecordKey{Source: r.Source, ID: r.ID} }

// RecordKey names a record: the source's name and the record's ID in it.
type RecordKey struct {
	Source string `json:"source"`
	ID     string `json:"id"`
}

// String returns "source:id", the form used in logs and messages.
func (k RecordKey) String() string { return k.Source + ":" + k.ID }

// Problem is an item a source could not read. The item is skipped and
// reported; when it was read before, its last good version stays in use.
type Problem struct {
	// Source is the configured name of the source.
	Source string
	// ID is the item's ID as a Record would have it (a path, "path#N", or an href).
	ID string
	// Err says why the item was skipped.
	Err error
}

// Error returns the problem as a message naming the source, the item and the reason.
func (p Problem) Error() string {
	return "source " + quote(p.Source) + ": " + p.ID + ": " + p.Err.Error()
}

// Snapshot is what one read of a source returned.
type Snapshot struct {
	// Source is the configured name of the source.
	Source string
	// Full is true when Records is everything the source holds; false when
	// Records and Deleted are the changes since the cursor Read was given.
	Full bool
	// Records are the items read successfully (all of them, or the changed
	// ones when Full is false).
	Records []Record
	// Deleted are the IDs of records gone since the cursor (only when Full is false).
	Deleted []string
	// Problems are the items that could not be read.
	Problems []Problem
	// Cursor is opaque state the source wants back on its next Read (sync
	// tokens, ctags); kith stores it with the records in one transaction.
	Cursor string
}

// Empty reports whether the snapshot brings no change: an incremental read
// that found nothing new, changed, gone or unreadable.
func (s *Snapshot) Empty() bool {
	return !s.Full && len(s.Records)+len(s.Deleted)+len(s.Problems) == 0
}

// Contact is one merged person: the golden card and the records it came from.
type Contact struct {
	// UID is the contact's stable identifier, also the card's UID.
	UID string
	// Card is the golden card, vCard 3.0.
	Card vcard.Card
	// Hash identifies the golden card's content.
	Hash string
	// Members are the records merged into this contact, sorted.
	Members []RecordKey
	// Reasons say in words why the members were joined, one line a join.
	Reasons []string
	// Absorbed are the UIDs of last run's contacts that this one took in
	// whole (they were joined into it). Their cards on a target may carry
	// the user's edits, which must move to this contact's card.
	Absorbed []string
	// Returning is set when the contact left every source with the user's
	// words on its cards (State.Left) and came back: a target that holds
	// no card of it gets one carrying them (SyncTarget), and the State.Left
	// row goes once every target holds its card (SettleReturns).
	Returning *LeftContact
}

// Name returns the contact's display name.
func (c *Contact) Name() string { return DisplayName(c.Card) }

func quote(s string) string { return `"` + s + `"` }
