package sync

import (
	"context"
	"time"
)

// Interaction is one real contact with a person: a meeting, a call, a
// message, a card exchanged. Edits, syncs and bulk mail are never
// interactions.
type Interaction struct {
	// Date is the day it happened (time of day ignored, UTC midnight).
	Date time.Time
	// Kind is one of the Kind* constants.
	Kind string
	// Source names where it was found: "note", a source name, a calendar or mailbox name.
	Source string
	// Ref identifies it within Source so that it counts once (a note line's
	// identity, an event UID, a Message-ID).
	Ref string
	// People is how many people took part besides the user (1 for a
	// one-to-one); weights shrink for larger groups.
	People int
	// Who identifies the other party when the interaction does not come from
	// a card: normalised emails and phones, matched against contacts.
	Who []string
}

// Kinds of interaction.
const (
	KindMeeting  = "meeting"
	KindCard     = "card"  // a business card exchanged (scan)
	KindEvent    = "event" // an attended calendar event
	KindCall     = "call"
	KindMessage  = "message"
	KindMailSent = "mail-sent"
	KindMailRecv = "mail-received"
)

// InteractionSource is a calendar or mailbox that yields interactions with
// people who are matched to contacts by Who.
type InteractionSource interface {
	// Name returns the configured name.
	Name() string
	// Interactions returns the interactions on or after since.
	Interactions(ctx context.Context, since time.Time) ([]Interaction, error)
}
