package calendar

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"time"

	"kith/internal/dav"
	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/normalize"
)

// Source reads calendars as an interaction source. It is safe for
// concurrent use.
type Source struct {
	opts Options
	user map[string]bool
	norm *normalize.Normalizer
	log  *slog.Logger
	// auth is the CalDAV login, kept from one Update to the next so that
	// a Digest server is not asked for a new challenge every sync.
	auth *dav.Auth
}

var _ ksync.InteractionSource = (*Source)(nil)

// New returns a Source for opts, with defaults filled in. It checks the
// options only; paths and the server are read by Interactions.
func New(opts Options) (*Source, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	norm, err := normalize.New("")
	if err != nil {
		return nil, fmt.Errorf("calendar %q: %w", opts.Name, err)
	}
	user, err := norm.EmailSet(opts.UserEmails)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: user_emails: %w", opts.Name, err)
	}
	opts.Paths = slices.Clone(opts.Paths)
	s := &Source{opts: opts, user: user, norm: norm, log: opts.Logger.With("calendar", opts.Name)}
	if opts.URL != "" {
		origin, _ := url.Parse(opts.URL) // checked by check
		s.auth = dav.NewAuth(origin, opts.Username, opts.Password)
	}
	return s, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.opts.Name }

// Interactions returns one interaction per attended occurrence that began
// before now and on or after since's day (within the last three years for
// CalDAV calendars), sorted by date and Ref. Files and
// events that cannot be read are logged and skipped; it fails when a
// configured path cannot be read, the CalDAV server cannot be queried, or
// ctx is done.
func (s *Source) Interactions(ctx context.Context, since time.Time) ([]ksync.Interaction, error) {
	now := s.opts.Now()
	x := s.extractor(since, now)
	files, err := s.files(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range files {
		if err := s.readFile(ctx, x, p); err != nil {
			return nil, fmt.Errorf("calendar %q: %s: %w", s.opts.Name, p, err)
		}
	}
	if s.opts.URL != "" {
		// The CalDAV calendars are read as Update reads them the first
		// time, into a store that is then thrown away.
		mem := &ksync.MemItems{}
		if _, err := s.updateCalDAV(ctx, mem, map[string]string{}, now); err != nil {
			return nil, err
		}
		ins, err := s.Load(ctx, mem, since)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			if !x.seen[in.Ref] {
				x.seen[in.Ref] = true
				x.out = append(x.out, in)
			}
		}
	}
	slices.SortFunc(x.out, func(a, b ksync.Interaction) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Ref, b.Ref))
	})
	return x.out, nil
}

// extractor returns an extractor of the occurrences in [since's day, now).
func (s *Source) extractor(since, now time.Time) *extractor {
	return &extractor{
		source:       s.opts.Name,
		user:         s.user,
		maxAttendees: s.opts.MaxAttendees,
		loc:          s.opts.Location,
		since:        day(since, s.opts.Location),
		now:          now,
		norm:         s.norm,
		log:          s.log,
		seen:         map[string]bool{},
	}
}

// readFile adds the interactions of one .ics file; a file that cannot be
// read or parsed is logged and skipped.
func (s *Source) readFile(ctx context.Context, x *extractor, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		s.log.Warn("calendar file skipped", "path", path, "err", err)
		return nil
	}
	if !fi.Mode().IsRegular() {
		// A FIFO named .ics would block the read, and the sync with it.
		s.log.Warn("calendar file skipped", "path", path, "reason", "not a regular file")
		return nil
	}
	if fi.Size() > s.opts.Limits.Size {
		s.log.Warn("calendar file skipped", "path", path, "err", &card.LimitError{Key: "calendar_size", What: "calendar", Got: fi.Size(), Max: s.opts.Limits.Size})
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		s.log.Warn("calendar file skipped", "path", path, "err", err)
		return nil
	}
	cals, err := decodeAll(data, s.opts.Limits)
	if err != nil {
		s.log.Warn("calendar file skipped", "path", path, "err", err)
		return nil
	}
	for _, cal := range cals {
		x.calendar(cal, path)
	}
	return nil
}
