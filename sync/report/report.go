package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	ksync "kith/sync"
)

// Report is the content of report.json.
type Report struct {
	// GeneratedAt is when the report was made.
	GeneratedAt time.Time `json:"generated_at"`
	// Contacts holds every merged contact, sorted by name then UID.
	Contacts []Contact `json:"contacts"`
	// Actions are at most seven things worth doing this week, most pressing first.
	Actions []Action `json:"actions"`
	// PossibleDuplicates are pairs of contacts that may be one person but
	// were not merged; the matcher provides them.
	PossibleDuplicates []Duplicate `json:"possible_duplicates"`
	// Circles are the circles' sizes against their typical sizes.
	Circles []CircleSize `json:"circles"`
	// History holds the state counts of past weeks, oldest first; the
	// daemon keeps them in the state database.
	History []Week `json:"history"`
	// Left are the contacts that left every source, newest first: their
	// cards left the targets, and kith restore brings them back with what
	// the user wrote on them.
	Left []Left `json:"left_sources,omitempty"`
}

// Left is a contact that left every source.
type Left struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
	// Date is when it left, YYYY-MM-DD.
	Date string `json:"date"`
	// Edited is set when the user had written on its cards (kept).
	Edited bool `json:"edited"`
}

// Contact is one merged contact in the report.
type Contact struct {
	UID     string            `json:"uid"`
	Name    string            `json:"name"`
	Members []ksync.RecordKey `json:"members"`
	// LastInteraction is the latest real interaction, or nil when none is known.
	LastInteraction *Interaction `json:"last_interaction"`
	// DaysSince is the number of days since LastInteraction, nil when none.
	DaysSince *int `json:"days_since"`
	// Circle is inner, close, friends or active; "" when unknown.
	Circle string `json:"circle"`
	// CircleSet is true when a category set the circle, false when inferred.
	CircleSet bool `json:"circle_set"`
	// State is follow-up, healthy, due, fading, cold, dormant or none.
	State string `json:"state"`
	// Reason says why, in one line.
	Reason string `json:"reason"`
	// Strength is how much in touch the contact is now, 0..1.
	Strength float64 `json:"strength"`
	// Bond is the shared history, 0..1.
	Bond float64 `json:"bond"`
}

// Interaction is a dated real interaction with a contact.
type Interaction struct {
	Date   string `json:"date"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// Via says it for people, with the source that gave it: "mail, 3 days
	// ago (work)".
	Via string `json:"via"`
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Sort orders contacts by folded name, then UID, the order report.json uses.
func Sort(cs []Contact) {
	slices.SortFunc(cs, func(a, b Contact) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.UID, b.UID))
	})
}

// Read decodes a report.json.
func Read(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// ContentHash identifies what the report says, apart from when it was made:
// two reports with the same hash render the same files but for the date.
func (r *Report) ContentHash() (string, error) {
	cp := *r
	cp.GeneratedAt = time.Time{}
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(&cp); err != nil {
		return "", err
	}
	// The rendered pages carry the day; a new day makes a new report.
	fmt.Fprintln(h, r.GeneratedAt.Format(time.DateOnly))
	return hex.EncodeToString(h.Sum(nil)), nil
}
