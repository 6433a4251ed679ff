package sync

import (
	"errors"
	"fmt"
	"runtime"
	gosync "sync"
	"time"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// State is what kith remembers between runs; the state store persists it.
type State struct {
	// Records holds every source record kith knows, with the contact it belongs to.
	Records map[RecordKey]*StoredRecord
	// Contacts holds every merged contact by UID.
	Contacts map[string]*StoredContact
	// Targets holds, per target name, what kith last wrote there, by href.
	Targets map[string]map[string]*TargetEntry
	// Cursors holds each source's Snapshot.Cursor.
	Cursors map[string]string
	// Interactions holds every contact's known real interactions, by UID.
	Interactions map[string][]Interaction
	// History holds the report's state counts per week (Monday,
	// YYYY-MM-DD) and state.
	History map[string]map[string]int
	// Meta holds the engine's own small values: what the last merge was
	// made from (its fingerprint) and the possible duplicates it found.
	Meta map[string]string
	// Left holds the contacts that left every source, by UID: what the
	// user wrote on their cards is kept here, for kith restore.
	Left map[string]*LeftContact
	// Pending holds, per target name and by href, the intents kith
	// recorded before acting on them (Intents.Record) whose sync stopped
	// before its state was saved: the next sync finishes them
	// (SyncTarget, and the daemon's reading of cards made on targets)
	// instead of taking the missing cards for the user's deletes. A nil
	// map leaves the stored ones as they are (Store.Save).
	Pending map[string]map[string]*Intent
}

// IntentKind says why kith deletes a card, or writes one the user made.
type IntentKind string

const (
	// IntentFold is a card whose content kith moved onto another card of
	// its contact (a contact joined into another, a second card the user
	// made for one person).
	IntentFold IntentKind = "fold"
	// IntentLeave is the card of a contact that left every source: what
	// the user wrote on it goes into State.Left.
	IntentLeave IntentKind = "leave"
	// IntentAdopt is a card the user made that kith is about to write its
	// contact onto for the first time (adoption in place): Card is the
	// card as the user made it, its record's card. Not a delete.
	IntentAdopt IntentKind = "adopt"
)

// Intent is a delete kith is about to make on a target (or a first write
// onto a card the user made), recorded durably first (write-ahead), so
// that a crash between it and the state's save is not taken for the
// user's deletion or edit of the card.
type Intent struct {
	// Href is the card's.
	Href string
	// Kind says why it goes.
	Kind IntentKind
	// UID is the contact the card showed (IntentLeave) or the one its
	// content moved to (IntentFold).
	UID string
	// ETag is the card's version the delete is conditional on.
	ETag string
	// Card is the card as the target held it at ETag: for a card the user
	// made, its record's card; for IntentLeave, what the user wrote.
	Card vcard.Card
	// Base is the golden card Card was made from (IntentLeave; may be nil).
	Base vcard.Card
}

// LeftContact is a contact that left every source, kept so that the user
// can bring it back with what they wrote on its cards.
type LeftContact struct {
	// UID is the contact's UID, kept when it comes back.
	UID string
	// Card is its last golden card with the user's edits from every
	// target folded in (kith's own X-KITH-* properties taken off).
	Card vcard.Card
	// Left is when it left.
	Left time.Time
	// Edited is set when the user had written on its cards.
	Edited bool
	// Base is the golden card Card was made from (the contact's last golden
	// card when it left; nil when unknown): the base of the three-way merge
	// that carries the user's words onto its new cards when it comes back
	// through its sources.
	Base vcard.Card
}

// RestoredSource names the records of contacts the user brought back with
// kith restore after they left their sources: kith keeps them itself.
const RestoredSource = "restored"

// NewState returns an empty State.
func NewState() *State {
	return &State{
		Records:  map[RecordKey]*StoredRecord{},
		Contacts: map[string]*StoredContact{},
		Targets:  map[string]map[string]*TargetEntry{},
		Cursors:  map[string]string{},

		Interactions: map[string][]Interaction{},
		History:      map[string]map[string]int{},
		Meta:         map[string]string{},
		Left:         map[string]*LeftContact{},
		Pending:      map[string]map[string]*Intent{},
	}
}

// StoredRecord is a source record as kith last read it.
type StoredRecord struct {
	// Record.Card is nil until DecodeRecords when the store handed the
	// card over as Raw.
	Record
	// Raw is the card as stored; the store leaves decoding it to
	// DecodeRecords, which a sync with no change never needs.
	Raw []byte
	// UID is the contact the record was merged into.
	UID string
	// FirstSeen is when kith first read the record.
	FirstSeen time.Time
}

// StoredContact is a merged contact as kith last made it.
type StoredContact struct {
	// UID is the contact's stable identifier.
	UID string
	// Card is the golden card made from the sources (before any user edit).
	Card vcard.Card
	// Hash is card.Hash of Card.
	Hash string
	// Created is when the contact first existed.
	Created time.Time
	// Members are the contact's records, sorted.
	Members []RecordKey
	// Reasons say why the members were joined.
	Reasons []string
}

// TargetEntry is what kith knows of one card on a target.
type TargetEntry struct {
	// UID is the contact the card shows.
	UID string
	// ETag is the card's version after kith last wrote or read it.
	ETag string
	// Card is the card as it was at ETag: the base a user's edit is compared to.
	Card vcard.Card
	// Hash is card.Hash of Card.
	Hash string
	// Base is the golden card Card was made from: the sources' side of the
	// three-way merge with the user's edits. A write that failed leaves it
	// (and Card) as they were, so the change comes through on the next
	// sync. Nil in states from before it was kept: the contact's last
	// golden card stands in.
	Base vcard.Card
	// BaseHash is card.Hash of Base.
	BaseHash string
	// Group is set for a group card a client made on the target: no
	// contact's, never merged, written only to point its members at the
	// cards they merged into. UID is "" and Base nil.
	Group bool
	// Deleted is set when the user deleted the card on the target: it is not
	// written again.
	Deleted bool
}

// DecodeRecords decodes the card of every record that holds only its Raw
// form, on every CPU, and fails on the first that does not decode.
func (s *State) DecodeRecords() error {
	var todo []*StoredRecord
	for _, r := range s.Records {
		if r.Card == nil && r.Raw != nil {
			todo = append(todo, r)
		}
	}
	errs := make([]error, len(todo))
	workers := min(runtime.GOMAXPROCS(0), len(todo)/64+1)
	var wg gosync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				c, err := card.Decode(todo[i].Raw)
				if err != nil {
					errs[i] = fmt.Errorf("record %s: %w", todo[i].Key(), err)
					continue
				}
				todo[i].Card = c
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
