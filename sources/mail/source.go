package mail

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	ksync "kith/sync"
	"kith/sync/normalize"
)

// Source reads mailboxes as an interaction source. It is safe for
// concurrent use, but one Update at a time per store.
type Source struct {
	opts  Options
	user  map[string]bool
	norm  *normalize.Normalizer
	log   *slog.Logger
	boxes []box
	imap  *imapReader // nil without IMAP
	// optsTag identifies the options that decide what counts: part of
	// every version.
	optsTag string
}

var (
	_ ksync.InteractionSource = (*Source)(nil)
	_ ksync.IncrementalSource = (*Source)(nil)
)

// New returns a Source for opts, with defaults filled in. It checks the
// options only; the mailboxes are read by Update.
func New(opts Options) (*Source, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	norm, err := normalize.New("")
	if err != nil {
		return nil, fmt.Errorf("mail %q: %w", opts.Name, err)
	}
	user, err := norm.EmailSet(opts.UserEmails)
	if err != nil {
		return nil, fmt.Errorf("mail %q: user_emails: %w", opts.Name, err)
	}
	opts.Mailboxes = slices.Clone(opts.Mailboxes)
	s := &Source{opts: opts, user: user, norm: norm, log: opts.Logger.With("mail", opts.Name)}
	for _, mb := range opts.Mailboxes {
		s.boxes = append(s.boxes, box{key: "local:" + mb.Path, label: mb.Path, sent: mb.Sent, path: mb.Path})
	}
	if opts.IMAP != nil {
		if s.imap, err = newIMAPReader(s, *opts.IMAP); err != nil {
			return nil, fmt.Errorf("mail %q: %w", opts.Name, err)
		}
	}
	tag := sha256.New()
	fmt.Fprintf(tag, "%d %q %d %s\n", factVersion, slices.Sorted(func(yield func(string) bool) {
		for u := range user {
			if !yield(u) {
				return
			}
		}
	}), opts.MaxRecipients, opts.Location)
	s.optsTag = hex.EncodeToString(tag.Sum(nil)[:8])
	return s, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.opts.Name }

// box is one mailbox as the item store knows it: a Maildir folder or mbox
// file (path), or an IMAP folder.
type box struct {
	key   string // the store's box key: "local:<path>" or "imap:<folder>"
	label string // names it in errors and logs
	sent  bool
	path  string // local mailboxes
}

// fact is what kith keeps of one message: enough to decide again, under
// other options, whether and how it counts. Bodies are never read.
type fact struct {
	Date int64    `json:"d,omitempty"` // unix seconds; 0 when unknown
	Ref  string   `json:"r,omitempty"`
	From string   `json:"f,omitempty"`
	To   []string `json:"t,omitempty"` // normalised recipients, without duplicates
	// Skip says why the message is not personal mail whatever the options
	// (a list, bulk, an unreadable address); the other fields are empty.
	Skip string `json:"s,omitempty"`
}

// factVersion changes when facts are read differently: stored facts of an
// older version are read again.
const factVersion = 1

// factOf keeps what counts of a parsed message.
func factOf(m message) fact {
	if m.skip != "" {
		return fact{Skip: m.skip}
	}
	f := fact{Ref: m.ref, From: m.from, To: m.recipients}
	if !m.date.IsZero() {
		f.Date = m.date.Unix()
	}
	return f
}

func (f fact) encode() []byte {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

// Interactions reads every mailbox in full, keeping nothing: what Update
// and Load do with a fresh store.
func (s *Source) Interactions(ctx context.Context, since time.Time) ([]ksync.Interaction, error) {
	return ksync.ReadAll(ctx, s, since)
}

// Update reads what changed in each mailbox since the last Update into
// store: new and changed message files of a Maildir whose folders moved, an
// mbox file that changed, the new UIDs of an IMAP folder. Unchanged
// mailboxes cost a stat (local) or one STATUS (IMAP). Each mailbox's
// changes are stored as soon as they are read, so that a failure later
// loses nothing. It fails when a mailbox cannot be read; the others are
// still brought up to date.
func (s *Source) Update(ctx context.Context, store ksync.ItemStore) (string, error) {
	curs, err := store.Cursors(ctx, s.opts.Name)
	if err != nil {
		return "", fmt.Errorf("mail %q: %w", s.opts.Name, err)
	}
	var firstErr error
	keep := map[string]bool{}
	for _, b := range s.boxes {
		keep[b.key] = true
		if err := s.updateLocal(ctx, store, b, curs[b.key]); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			firstErr = cmp.Or(firstErr, fmt.Errorf("mail %q: %s: %w", s.opts.Name, b.label, err))
		}
	}
	if s.imap != nil {
		kept, err := s.imap.update(ctx, store, curs)
		for k := range kept {
			keep[k] = true
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			firstErr = cmp.Or(firstErr, fmt.Errorf("mail %q: %w", s.opts.Name, err))
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	v, err := ksync.Settle(ctx, store, s.opts.Name, func(box string) bool { return keep[box] }, s.optsTag,
		func(_, cur string) string { return contentOf(cur) })
	if err != nil {
		return "", fmt.Errorf("mail %q: %w", s.opts.Name, err)
	}
	return v, nil
}

// candidate is a received mail kept until all sent mail is known.
type candidate struct {
	day    time.Time
	ref    string
	from   string
	people int
}

// Load returns, from what store holds, the mail the user sent and the mail
// received from people the user has written to, dated on or after since's
// day, sorted by date, kind and Ref. Each Message-ID counts once per kind.
func (s *Source) Load(ctx context.Context, store ksync.ItemStore, since time.Time) ([]ksync.Interaction, error) {
	now := s.opts.Now()
	sinceDay := s.day(since)
	writtenTo := map[string]bool{}
	seen := map[string]bool{}
	var out []ksync.Interaction
	var received []candidate

	boxes := slices.Clone(s.boxes)
	if s.imap != nil {
		ib, err := s.imap.boxes(ctx, store)
		if err != nil {
			return nil, fmt.Errorf("mail %q: %w", s.opts.Name, err)
		}
		boxes = append(boxes, ib...)
	}
	for _, mb := range boxes {
		items, err := store.Items(ctx, s.opts.Name, mb.key)
		if err != nil {
			return nil, fmt.Errorf("mail %q: %s: %w", s.opts.Name, mb.label, err)
		}
		log := s.log.With("mailbox", mb.label)
		for _, key := range slices.Sorted(func(yield func(string) bool) {
			for k := range items {
				if !yield(k) {
					return
				}
			}
		}) {
			var m fact
			if err := json.Unmarshal(items[key], &m); err != nil || m.Skip != "" {
				continue // skipped when read, and logged then
			}
			skip := func(reason string) {
				log.Debug("message skipped", "where", key, "ref", m.Ref, "reason", reason)
			}
			if m.From != "" && noReply(m.From) {
				skip("no-reply sender")
				continue
			}
			if len(m.To) > s.opts.MaxRecipients {
				skip(fmt.Sprintf("%d recipients, more than %d", len(m.To), s.opts.MaxRecipients))
				continue
			}
			var others []string // recipients but the user
			for _, r := range m.To {
				if !s.user[r] {
					others = append(others, r)
				}
			}
			var date time.Time
			if m.Date != 0 {
				date = time.Unix(m.Date, 0)
			}
			if date.After(now) {
				date = now // misset clocks: the mail has arrived, so it was sent by now
			}
			inWindow := !date.IsZero() && !s.day(date).Before(sinceDay)

			if mb.sent || s.user[m.From] {
				var who []string
				for _, o := range others {
					if !noReply(o) {
						who = append(who, o)
						writtenTo[o] = true
					}
				}
				if len(who) == 0 {
					skip("sent to nobody but the user")
					continue
				}
				key := ksync.KindMailSent + " " + m.Ref
				if !inWindow || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, ksync.Interaction{
					Date: s.day(date), Kind: ksync.KindMailSent, Source: s.opts.Name,
					Ref: m.Ref, People: len(who), Who: who,
				})
				continue
			}
			if m.From == "" {
				skip("no sender")
				continue
			}
			if !inWindow {
				continue
			}
			people := 1
			for _, o := range others {
				if o != m.From {
					people++
				}
			}
			received = append(received, candidate{day: s.day(date), ref: m.Ref, from: m.From, people: people})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	for _, c := range received {
		key := ksync.KindMailRecv + " " + c.ref
		if !writtenTo[c.from] || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, ksync.Interaction{
			Date: c.day, Kind: ksync.KindMailRecv, Source: s.opts.Name,
			Ref: c.ref, People: c.people, Who: []string{c.from},
		})
	}
	slices.SortFunc(out, func(a, b ksync.Interaction) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Ref, b.Ref))
	})
	return out, nil
}

// day returns the UTC midnight of the day t falls on in the Location.
func (s *Source) day(t time.Time) time.Time {
	y, m, d := t.In(s.opts.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
