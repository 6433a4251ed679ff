package calendar

import (
	"context"
	"encoding/xml"
	"errors"
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

	"kith/sync/card"
)

// readCalDAV adds the interactions of the CalDAV calendars: every event
// the server finds in [since, now], recurring ones expanded here.
func (s *Source) readCalDAV(ctx context.Context, x *extractor, since, now time.Time) error {
	var hc webdav.HTTPClient = s.opts.HTTPClient
	if s.opts.Username != "" {
		// Go's client keeps Authorization on a redirect to another port of
		// the same host name and from https down to http: the password
		// would reach a server the user never named, or cross the network
		// in the clear. Such a redirect is refused instead.
		guarded := *s.opts.HTTPClient
		guarded.CheckRedirect = credentialsStayHome
		hc = webdav.HTTPClientWithBasicAuth(&guarded, s.opts.Username, s.opts.Password)
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

// readCollection queries one calendar for the events in [since, now]. An
// object that cannot be decoded is logged and skipped; when the query
// itself fails, the calendar is listed and each object fetched on its own.
func (s *Source) readCollection(ctx context.Context, c *caldav.Client, hc webdav.HTTPClient, x *extractor, cal caldav.Calendar, since, now time.Time) error {
	base, err := url.Parse(s.opts.URL)
	if err != nil {
		return err
	}
	objs, err := s.query(ctx, hc, base.ResolveReference(&url.URL{Path: cal.Path}), since, now)
	if err == nil {
		for _, o := range objs {
			cs, err := decodeAll(o.data, s.opts.Limits)
			if err != nil {
				s.log.Warn("calendar event skipped", "href", o.href, "err", err)
				continue
			}
			for _, one := range cs {
				x.calendar(one, o.href)
			}
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
	for _, f := range files {
		if f.IsDir || samePath(f.Path, cal.Path) {
			continue
		}
		data, err := get(ctx, hc, base.ResolveReference(&url.URL{Path: f.Path}), s.opts.Limits.Size)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("calendar event skipped", "href", f.Path, "err", err)
			continue
		}
		cs, err := decodeAll(data, s.opts.Limits)
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

// object is one calendar object of a calendar-query's answer.
type object struct {
	href string
	data []byte
}

// queryBody is a calendar-query REPORT (RFC 4791 7.8) for the events that
// overlap a time range.
const queryBody = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
	`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="%s" end="%s"/>` +
	`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`

// multistatus is the part of a calendar-query's answer kith reads.
type multistatus struct {
	Responses []struct {
		Href      string `xml:"DAV: href"`
		Propstats []struct {
			Prop struct {
				Data *string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
			} `xml:"DAV: prop"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

// query runs a calendar-query on the calendar at u for the events in
// [since, now] and returns the objects' iCalendar text, undecoded. It does
// not use go-webdav's QueryCalendar, which decodes the objects with
// go-ical's recursive decoder (see decodeAll). The answer is read up to
// the calendar size limit.
func (s *Source) query(ctx context.Context, hc webdav.HTTPClient, u *url.URL, since, now time.Time) ([]object, error) {
	const stamp = "20060102T150405Z"
	body := fmt.Sprintf(queryBody, since.UTC().Format(stamp), now.UTC().Format(stamp))
	req, err := http.NewRequestWithContext(ctx, "REPORT", u.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	req.Header.Set("Depth", "1")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return nil, fmt.Errorf("REPORT: %s", resp.Status)
	}
	limit := s.opts.Limits.Size
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("REPORT: reading the answer: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, &card.LimitError{Key: "calendar_size", What: "CalDAV answer", Max: limit}
	}
	var ms multistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil, fmt.Errorf("REPORT: decoding the answer: %w", err)
	}
	var out []object
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if ps.Prop.Data != nil && strings.Contains(ps.Status, " 200") {
				out = append(out, object{href: r.Href, data: []byte(*ps.Prop.Data)})
			}
		}
	}
	return out, nil
}

// get fetches one calendar object.
func get(ctx context.Context, hc webdav.HTTPClient, u *url.URL, limit int64) ([]byte, error) {
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
	// One byte more than the limit, for decodeAll to see it is over.
	return io.ReadAll(io.LimitReader(resp.Body, limit+1))
}

// credentialsStayHome lets a request that carries the password follow a
// redirect only to the same scheme, host and port, or from http up to
// https on the same host.
func credentialsStayHome(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	from, to := via[0].URL, req.URL
	sameHost := strings.EqualFold(from.Hostname(), to.Hostname())
	switch {
	case sameHost && from.Scheme == to.Scheme && from.Port() == to.Port():
		return nil
	case sameHost && from.Scheme == "http" && to.Scheme == "https":
		return nil
	}
	return fmt.Errorf("redirected to %s://%s: not followed with the password (configure that URL if it is right)", to.Scheme, to.Host)
}
