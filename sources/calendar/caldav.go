package calendar

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// readCalDAV adds the interactions of the CalDAV calendars: every event
// the server finds in [since, now], recurring ones expanded here.
func (s *Source) readCalDAV(ctx context.Context, x *extractor, since, now time.Time) error {
	var hc webdav.HTTPClient = s.opts.HTTPClient
	if s.opts.Username != "" {
		hc = webdav.HTTPClientWithBasicAuth(hc, s.opts.Username, s.opts.Password)
	}
	c, err := caldav.NewClient(hc, s.opts.URL)
	if err != nil {
		return fmt.Errorf("calendar %q: url: %w", s.opts.Name, err)
	}
	cals, err := s.discover(ctx, c)
	if err != nil {
		return fmt.Errorf("calendar %q: finding calendars: %w", s.opts.Name, err)
	}
	for _, cal := range cals {
		if err := s.readCollection(ctx, c, hc, x, cal, since, now); err != nil {
			return fmt.Errorf("calendar %q: %s: %w", s.opts.Name, cal.Path, err)
		}
	}
	return nil
}

// discover returns the calendars to read: the URL itself when it is a
// calendar, the calendars in it when it is a home set, else those of the
// current user's calendar home set; filtered by Options.Calendars and to
// those that can hold events.
func (s *Source) discover(ctx context.Context, c *caldav.Client) ([]caldav.Calendar, error) {
	u, err := url.Parse(s.opts.URL)
	if err != nil {
		return nil, err
	}
	self := u.Path
	if self == "" {
		self = "/"
	}
	cals, err := c.FindCalendars(ctx, self)
	if err == nil {
		for _, cal := range cals {
			if samePath(cal.Path, self) {
				return []caldav.Calendar{cal}, nil
			}
		}
	}
	if err != nil || len(cals) == 0 {
		principal, err := c.FindCurrentUserPrincipal(ctx)
		if err != nil {
			return nil, fmt.Errorf("current user principal: %w", err)
		}
		home, err := c.FindCalendarHomeSet(ctx, principal)
		if err != nil {
			return nil, fmt.Errorf("calendar home set of %s: %w", principal, err)
		}
		cals, err = c.FindCalendars(ctx, home)
		if err != nil {
			return nil, fmt.Errorf("calendars in %s: %w", home, err)
		}
	}
	var out []caldav.Calendar
	for _, cal := range cals {
		if len(cal.SupportedComponentSet) > 0 && !slices.ContainsFunc(cal.SupportedComponentSet, func(n string) bool {
			return strings.EqualFold(n, ical.CompEvent)
		}) {
			continue
		}
		if len(s.opts.Calendars) > 0 && !slices.ContainsFunc(s.opts.Calendars, func(want string) bool {
			return want == cal.Name || want == path.Base(strings.TrimSuffix(cal.Path, "/"))
		}) {
			continue
		}
		out = append(out, cal)
	}
	if len(s.opts.Calendars) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("calendars: none of %q found", s.opts.Calendars)
	}
	return out, nil
}

func samePath(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// readCollection queries one calendar for the events in [since, now]. One
// unparsable object fails go-webdav's whole query; then the calendar is
// listed and each object fetched on its own, so that only the bad one is
// skipped.
func (s *Source) readCollection(ctx context.Context, c *caldav.Client, hc webdav.HTTPClient, x *extractor, cal caldav.Calendar, since, now time.Time) error {
	q := &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: ical.CompCalendar, AllProps: true, AllComps: true},
		CompFilter: caldav.CompFilter{
			Name:  ical.CompCalendar,
			Comps: []caldav.CompFilter{{Name: ical.CompEvent, Start: since.UTC(), End: now.UTC()}},
		},
	}
	objs, err := query(ctx, c, cal.Path, q)
	if err == nil {
		for _, o := range objs {
			x.calendar(o.Data, o.Path)
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.log.Warn("calendar query failed, fetching events one by one", "calendar", cal.Path, "err", err)
	files, err := c.ReadDir(ctx, cal.Path, false)
	if err != nil {
		return fmt.Errorf("listing: %w", err)
	}
	base, err := url.Parse(s.opts.URL)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir || samePath(f.Path, cal.Path) {
			continue
		}
		data, err := get(ctx, hc, base.ResolveReference(&url.URL{Path: f.Path}))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("calendar event skipped", "href", f.Path, "err", err)
			continue
		}
		cs, err := decodeAll(data)
		if err != nil {
			s.log.Warn("calendar event skipped", "href", f.Path, "err", err)
			continue
		}
		for _, one := range cs {
			x.calendar(one, f.Path)
		}
	}
	return nil
}

// query runs a calendar-query, turning a panic of go-ical's decoder on a
// malformed object into an error.
func query(ctx context.Context, c *caldav.Client, path string, q *caldav.CalendarQuery) (objs []caldav.CalendarObject, err error) {
	defer recoverDecoder(&err)
	return c.QueryCalendar(ctx, path, q)
}

// get fetches one calendar object.
func get(ctx context.Context, hc webdav.HTTPClient, u *url.URL) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", ical.MIMEType)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxFileSize))
}
