package calendar

import (
	"bytes"
	"context"
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

	"kith/internal/cafile"
	"kith/internal/dav"
	"kith/sync/card"
)

// davClient makes the CalDAV requests of one Update. Every answer is read
// up to the calendar size limit.
type davClient struct {
	hc    *http.Client
	auth  *dav.Auth // the login: Basic or Digest, only to the configured server
	limit int64
}

func (s *Source) newDAVClient() *davClient {
	hc := *s.opts.HTTPClient
	if s.opts.Username != "" {
		hc.CheckRedirect = credentialsStayHome(s.auth)
	}
	return &davClient{hc: &hc, auth: s.auth, limit: s.opts.Limits.Size}
}

// send makes one request and returns the response when its status is ok;
// any other status becomes a *dav.StatusError saying what the server said.
func (c *davClient) send(ctx context.Context, method string, u *url.URL, header http.Header, body []byte, ok int) (*http.Response, error) {
	if c.auth.User() != "" && !c.auth.Allowed(u) {
		// An href in an answer may name another host: the password goes
		// only to the configured one.
		return nil, fmt.Errorf("%s %s: %s://%s is not the configured server: the password is not sent there", method, u.Redacted(), u.Scheme, u.Host)
	}
	resp, _, refused, err := c.auth.Send(c.hc, func() (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		return req, nil
	})
	if err != nil {
		return nil, cafile.Explain(err)
	}
	if resp.StatusCode == ok {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, dav.MaxErrorBody))
	msg, pre := dav.ServerMessage(b, c.auth.Secrets())
	return nil, &dav.StatusError{Method: method, URL: resp.Request.URL.Redacted(), Code: resp.StatusCode, Hint: refused, Message: msg, Preconditions: pre}
}

// multistatus is the client's dav.Doer.
func (c *davClient) multistatus(ctx context.Context, method string, u *url.URL, depth string, body []byte) (*dav.Multistatus, *url.URL, error) {
	h := http.Header{"Content-Type": {"application/xml; charset=utf-8"}}
	if depth != "" {
		h.Set("Depth", depth)
	}
	resp, err := c.send(ctx, method, u, h, body, http.StatusMultiStatus)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	ms, err := dav.Decode(resp.Body, c.limit)
	if errors.Is(err, dav.ErrTooLarge) {
		return nil, nil, fmt.Errorf("%s: %w", method, &card.LimitError{Key: "calendar_size", What: "CalDAV answer", Max: c.limit})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the answer: %w", method, err)
	}
	return ms, resp.Request.URL, nil
}

// get fetches one calendar object, one byte more than the limit at most,
// for decodeAll to see it is over.
func (c *davClient) get(ctx context.Context, u *url.URL) ([]byte, error) {
	resp, err := c.send(ctx, http.MethodGet, u, http.Header{"Accept": {ical.MIMEType}}, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, c.limit+1))
}

// calendarInfo is one calendar a listing found.
type calendarInfo struct {
	url   *url.URL
	name  string
	comps []string
	ctag  string // "" when the server has none
}

// calendarProps are asked of calendars: what they are, and their getctag.
// Not their sync-token: Radicale takes twice as long to answer both.
var calendarProps = []string{"<D:resourcetype/>", "<D:displayname/>", "<CAL:supported-calendar-component-set/>", "<CS:getctag/>"}

func infoOf(u *url.URL, p dav.Prop) calendarInfo {
	return calendarInfo{url: u, name: p.DisplayName, comps: p.Components.Names(), ctag: p.CTag}
}

// listing is where the calendars were found: a home set (listed at depth
// 1) or one calendar (asked at depth 0). It is kept between Updates, so
// that a calendar that did not change costs one request.
type listing struct {
	URL    string `json:"u"`
	Single bool   `json:"s,omitempty"`
}

// list returns the calendars at l, with their getctag: one request.
func (s *Source) list(ctx context.Context, c *davClient, l listing) ([]calendarInfo, error) {
	u, err := url.Parse(l.URL)
	if err != nil {
		return nil, err
	}
	if l.Single {
		ms, final, err := dav.Propfind(ctx, c.multistatus, u, "0", calendarProps...)
		if err != nil {
			return nil, err
		}
		for _, r := range ms.Responses {
			if p, ok := r.OK(); ok && p.ResourceType != nil && p.ResourceType.Calendar != nil {
				return []calendarInfo{infoOf(final, p)}, nil
			}
		}
		return nil, fmt.Errorf("%s is no longer a calendar", u.Redacted())
	}
	return s.members(ctx, c, u)
}

// members returns the calendars in the collection at u.
func (s *Source) members(ctx context.Context, c *davClient, u *url.URL) ([]calendarInfo, error) {
	ms, final, err := dav.Propfind(ctx, c.multistatus, u, "1", calendarProps...)
	if err != nil {
		return nil, err
	}
	var out []calendarInfo
	for _, r := range ms.Responses {
		p, ok := r.OK()
		if !ok || p.ResourceType == nil || p.ResourceType.Calendar == nil || len(r.Hrefs) == 0 {
			continue
		}
		cu, err := dav.Resolve(final, r.Hrefs[0])
		if err != nil || dav.SamePath(cu.Path, final.Path) {
			continue
		}
		out = append(out, infoOf(cu, p))
	}
	slices.SortFunc(out, func(a, b calendarInfo) int { return strings.Compare(a.url.String(), b.url.String()) })
	return out, nil
}

// discover finds where the calendars are: the URL itself when it is a
// calendar, the calendars in it when it holds some, else those of the
// current user's calendar home set.
func (s *Source) discover(ctx context.Context, c *davClient) (listing, []calendarInfo, error) {
	u, err := url.Parse(s.opts.URL)
	if err != nil {
		return listing{}, nil, err
	}
	props := append([]string{"<D:current-user-principal/>", "<CAL:calendar-home-set/>"}, calendarProps...)
	ms, final, err := dav.Propfind(ctx, c.multistatus, u, "0", props...)
	if err != nil {
		return listing{}, nil, err
	}
	var p dav.Prop
	for _, r := range ms.Responses {
		if q, ok := r.OK(); ok {
			p = q
			break
		}
	}
	if rt := p.ResourceType; rt != nil && rt.Calendar != nil {
		return listing{URL: final.String(), Single: true}, []calendarInfo{infoOf(final, p)}, nil
	}
	if cals, err := s.members(ctx, c, final); err == nil && len(cals) > 0 {
		return listing{URL: final.String()}, cals, nil
	}
	home, base := p.CalendarHomeSet, final
	if home == nil && p.Principal != nil && len(p.Principal.Hrefs) > 0 {
		pu, err := dav.Resolve(final, p.Principal.Hrefs[0])
		if err != nil {
			return listing{}, nil, fmt.Errorf("current user principal: %w", err)
		}
		ms, pfinal, err := dav.Propfind(ctx, c.multistatus, pu, "0", "<CAL:calendar-home-set/>")
		if err != nil {
			return listing{}, nil, fmt.Errorf("principal %s: %w", pu.Redacted(), err)
		}
		for _, r := range ms.Responses {
			if q, ok := r.OK(); ok && q.CalendarHomeSet != nil {
				home, base = q.CalendarHomeSet, pfinal
				break
			}
		}
	}
	if home == nil || len(home.Hrefs) == 0 {
		return listing{}, nil, errors.New("no calendar home set found")
	}
	hu, err := dav.Resolve(base, home.Hrefs[0])
	if err != nil {
		return listing{}, nil, fmt.Errorf("calendar home set: %w", err)
	}
	cals, err := s.members(ctx, c, hu)
	if err != nil {
		return listing{}, nil, fmt.Errorf("calendars in %s: %w", hu.Redacted(), err)
	}
	return listing{URL: hu.String()}, cals, nil
}

// filter keeps the calendars that can hold events and that
// Options.Calendars names.
func (s *Source) filter(cals []calendarInfo) ([]calendarInfo, error) {
	var out []calendarInfo
	for _, cal := range cals {
		if len(cal.comps) > 0 && !slices.ContainsFunc(cal.comps, func(n string) bool {
			return strings.EqualFold(n, ical.CompEvent)
		}) {
			continue
		}
		if len(s.opts.Calendars) > 0 && !slices.ContainsFunc(s.opts.Calendars, func(want string) bool {
			return want == cal.name || want == path.Base(strings.TrimSuffix(cal.url.Path, "/"))
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

// object is one calendar object of a server's answer.
type object struct {
	href string // URL path
	data []byte
}

// queryBody is a calendar-query REPORT (RFC 4791 7.8) for the events that
// overlap the time from start on.
const queryBody = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
	`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="%s"/>` +
	`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`

// query runs a calendar-query on the calendar at u for the events from
// start on and returns the objects' iCalendar text, undecoded (go-webdav's
// QueryCalendar decodes them with go-ical's recursive decoder: see
// decodeAll).
func (c *davClient) query(ctx context.Context, u *url.URL, start time.Time) ([]object, error) {
	const stamp = "20060102T150405Z"
	body := fmt.Sprintf(queryBody, start.UTC().Format(stamp))
	ms, final, err := c.multistatus(ctx, "REPORT", u, "1", []byte(body))
	if err != nil {
		return nil, err
	}
	return objects(ms, final), nil
}

// objects returns the calendar objects of an answer.
func objects(ms *dav.Multistatus, final *url.URL) []object {
	var out []object
	for _, r := range ms.Responses {
		p, ok := r.OK()
		if !ok || p.CalendarData == nil || len(r.Hrefs) == 0 {
			continue
		}
		u, err := dav.Resolve(final, r.Hrefs[0])
		if err != nil {
			continue
		}
		out = append(out, object{href: u.Path, data: []byte(*p.CalendarData)})
	}
	return out
}

// multigetBatch is how many objects one calendar-multiget asks for.
const multigetBatch = 200

// multiget fetches the objects at hrefs (URL paths in the calendar at u)
// with calendar-multiget, and those a batch left out or failed with single
// GETs. It returns the objects read and the hrefs that are gone; an object
// that cannot be fetched is logged and left out of both.
func (s *Source) multiget(ctx context.Context, c *davClient, u *url.URL, hrefs []string) ([]object, []string, error) {
	var got []object
	var gone []string
	for len(hrefs) > 0 {
		batch := hrefs[:min(multigetBatch, len(hrefs))]
		hrefs = hrefs[len(batch):]
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
		for _, h := range batch {
			b.WriteString("<D:href>" + dav.XMLText((&url.URL{Path: h}).EscapedPath()) + "</D:href>")
		}
		b.WriteString("</C:calendar-multiget>")
		left := map[string]bool{}
		for _, h := range batch {
			left[h] = true
		}
		ms, final, err := c.multistatus(ctx, "REPORT", u, "1", []byte(b.String()))
		if err != nil && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err == nil {
			for _, o := range objects(ms, final) {
				if left[o.href] {
					got = append(got, o)
					delete(left, o.href)
				}
			}
			for _, r := range ms.Responses {
				if c := dav.Code(r.Status); (c == http.StatusNotFound || c == http.StatusGone) && len(r.Hrefs) > 0 {
					if ru, err := dav.Resolve(final, r.Hrefs[0]); err == nil && left[ru.Path] {
						gone = append(gone, ru.Path)
						delete(left, ru.Path)
					}
				}
			}
		} else {
			// One object a server cannot serve fails the whole report on
			// some servers: read the batch one by one.
			s.log.Warn("calendar multiget failed, fetching events one by one", "calendar", u.Path, "err", err)
		}
		for _, h := range slices.Sorted(mapKeys(left)) {
			data, err := c.get(ctx, u.ResolveReference(&url.URL{Path: h}))
			switch {
			case err == nil:
				got = append(got, object{href: h, data: data})
			case dav.IsNotFound(err):
				gone = append(gone, h)
			case ctx.Err() != nil:
				return nil, nil, ctx.Err()
			default:
				s.log.Warn("calendar event skipped", "href", h, "err", err)
			}
		}
	}
	return got, gone, nil
}

// readAll reads the objects of the calendar at u that have events from
// start on. When the query fails, the calendar is listed and each object
// fetched on its own.
func (s *Source) readAll(ctx context.Context, c *davClient, u *url.URL, start time.Time) ([]object, error) {
	objs, err := c.query(ctx, u, start)
	if err == nil {
		return objs, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.log.Warn("calendar query failed, fetching events one by one", "calendar", u.Path, "err", err)
	ms, final, err := dav.Propfind(ctx, c.multistatus, u, "1", "<D:resourcetype/>", "<D:getetag/>")
	if err != nil {
		return nil, fmt.Errorf("listing: %w", err)
	}
	var hrefs []string
	for _, r := range ms.Responses {
		p, ok := r.OK()
		if !ok || len(r.Hrefs) == 0 || (p.ResourceType != nil && p.ResourceType.Collection != nil) {
			continue
		}
		if mu, err := dav.Resolve(final, r.Hrefs[0]); err == nil && !dav.SamePath(mu.Path, u.Path) {
			hrefs = append(hrefs, mu.Path)
		}
	}
	slices.Sort(hrefs)
	var out []object
	for _, h := range hrefs {
		data, err := c.get(ctx, u.ResolveReference(&url.URL{Path: h}))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.log.Warn("calendar event skipped", "href", h, "err", err)
			continue
		}
		out = append(out, object{href: h, data: data})
	}
	return out, nil
}

// credentialsStayHome returns the redirect policy of a client that logs in
// with auth: Go's client would keep Authorization on a redirect to another
// port of the same host name and from https down to http, so the password
// would reach a server the user never named, or cross the network in the
// clear. Such a redirect is refused; one that is followed carries a login
// made for its own URL.
func credentialsStayHome(auth *dav.Auth) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !auth.Allowed(req.URL) {
			return fmt.Errorf("redirected to %s://%s: not followed with the password (configure that URL if it is right)", req.URL.Scheme, req.URL.Host)
		}
		return auth.Apply(req)
	}
}
