package mail

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	ksync "kith/sync"
	"kith/sync/normalize"
)

// Source reads mailboxes as an interaction source. It is safe for
// concurrent use.
type Source struct {
	opts Options
	user map[string]bool
	norm *normalize.Normalizer
	log  *slog.Logger
}

var _ ksync.InteractionSource = (*Source)(nil)

// New returns a Source for opts, with defaults filled in. It checks the
// options only; the mailboxes are read by Interactions.
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
	return &Source{opts: opts, user: user, norm: norm, log: opts.Logger.With("mail", opts.Name)}, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.opts.Name }

// candidate is a received mail kept until all sent mail is known.
type candidate struct {
	day    time.Time
	ref    string
	from   string
	people int
}

// Interactions returns the mail the user sent, and the mail received from
// people the user has written to, dated on or after since's day, sorted by
// date, kind and Ref. Each Message-ID counts once per kind. Messages that
// cannot be read are logged and skipped; it fails when a mailbox cannot be
// read or ctx is done.
func (s *Source) Interactions(ctx context.Context, since time.Time) ([]ksync.Interaction, error) {
	now := s.opts.Now()
	sinceDay := s.day(since)
	p := newParser(s.norm.Email)
	writtenTo := map[string]bool{}
	seen := map[string]bool{}
	var out []ksync.Interaction
	var received []candidate

	for _, mb := range s.opts.Mailboxes {
		log := s.log.With("mailbox", mb.Path)
		counted, skipped := 0, 0
		warn := func(where string, err error) {
			skipped++
			log.Warn("message skipped", "where", where, "err", err)
		}
		visit := func(h header, fallback time.Time, where string) {
			m := p.message(h, fallback)
			skip := func(reason string, level slog.Level) {
				skipped++
				log.Log(ctx, level, "message skipped", "where", where, "ref", m.ref, "reason", reason)
			}
			if m.skip != "" {
				skip(m.skip, slog.LevelDebug)
				return
			}
			if m.from != "" && noReply(m.from) {
				skip("no-reply sender", slog.LevelDebug)
				return
			}
			if len(m.recipients) > s.opts.MaxRecipients {
				skip(fmt.Sprintf("%d recipients, more than %d", len(m.recipients), s.opts.MaxRecipients), slog.LevelDebug)
				return
			}
			var others []string // recipients but the user
			for _, r := range m.recipients {
				if !s.user[r] {
					others = append(others, r)
				}
			}
			date := m.date
			if date.After(now) {
				date = now // misset clocks: the mail has arrived, so it was sent by now
			}
			inWindow := !date.IsZero() && !s.day(date).Before(sinceDay)

			if mb.Sent || s.user[m.from] {
				var who []string
				for _, o := range others {
					if !noReply(o) {
						who = append(who, o)
						writtenTo[o] = true
					}
				}
				if len(who) == 0 {
					skip("sent to nobody but the user", slog.LevelDebug)
					return
				}
				key := ksync.KindMailSent + " " + m.ref
				if !inWindow || seen[key] {
					return
				}
				seen[key] = true
				counted++
				out = append(out, ksync.Interaction{
					Date: s.day(date), Kind: ksync.KindMailSent, Source: s.opts.Name,
					Ref: m.ref, People: len(who), Who: who,
				})
				return
			}
			if m.from == "" {
				skip("no sender", slog.LevelDebug)
				return
			}
			if !inWindow {
				return
			}
			people := 1
			for _, o := range others {
				if o != m.from {
					people++
				}
			}
			counted++
			received = append(received, candidate{day: s.day(date), ref: m.ref, from: m.from, people: people})
		}
		if err := readMailbox(ctx, mb.Path, warn, visit); err != nil {
			return nil, fmt.Errorf("mail %q: %s: %w", s.opts.Name, mb.Path, err)
		}
		log.Debug("mailbox read", "kept", counted, "skipped", skipped)
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
