package report

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	// were not merged, the likeliest first (SetDuplicates): at most
	// MaxDuplicates of them.
	PossibleDuplicates []Duplicate `json:"possible_duplicates"`
	// DuplicatesMore counts the possible duplicates left out of
	// PossibleDuplicates; kith duplicates lists them all.
	DuplicatesMore int `json:"possible_duplicates_more"`
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

// MaxDuplicates is how many possible duplicates the report lists. A
// matcher that finds thousands finds them in a book full of namesakes;
// nobody reviews thousands, and listing them made report.json of a
// 100,000-card book 36 MB bigger. The likeliest come first; the rest are
// counted, and kith duplicates lists them all.
const MaxDuplicates = 100

// SetDuplicates lists ds in the report, the likeliest first (highest
// score, then by names and UIDs), at most MaxDuplicates, and counts the
// rest in DuplicatesMore.
func (r *Report) SetDuplicates(ds []Duplicate) {
	ds = slices.Clone(ds)
	SortDuplicates(ds)
	r.DuplicatesMore = 0
	if len(ds) > MaxDuplicates {
		r.DuplicatesMore = len(ds) - MaxDuplicates
		ds = ds[:MaxDuplicates:MaxDuplicates]
	}
	r.PossibleDuplicates = ds
}

// SortDuplicates orders possible duplicates the likeliest first: highest
// score, then by names and UIDs, so that the order is the same every sync.
func SortDuplicates(ds []Duplicate) {
	slices.SortFunc(ds, func(a, b Duplicate) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score),
			cmp.Compare(strings.ToLower(a.A.Name), strings.ToLower(b.A.Name)), cmp.Compare(strings.ToLower(a.B.Name), strings.ToLower(b.B.Name)),
			cmp.Compare(a.A.UID, b.A.UID), cmp.Compare(a.B.UID, b.B.UID))
	})
}

// WriteJSON writes r as indented JSON, each contact on a line of its own:
// a third smaller than indenting every field of tens of thousands of
// contacts, and one line a contact for grep and diff.
func (r *Report) WriteJSON(w io.Writer) error {
	rest := *r
	rest.Contacts = nil
	doc, err := json.MarshalIndent(rest, "", "  ")
	if err != nil {
		return err
	}
	// No string in the document holds a raw newline, so this is the key.
	const empty = "\n  \"contacts\": [],"
	i := bytes.Index(doc, []byte(empty))
	if i < 0 {
		return errors.New("report: no contacts key")
	}
	var b bytes.Buffer
	b.Grow(len(doc) + 512*len(r.Contacts))
	b.Write(doc[:i])
	b.WriteString("\n  \"contacts\": [")
	for j, c := range r.Contacts {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(line)
	}
	if len(r.Contacts) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("],")
	b.Write(doc[i+len(empty):])
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
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
