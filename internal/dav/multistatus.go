package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Multistatus is a WebDAV 207 response body (RFC 4918 section 14.16), with
// the sync-token of RFC 6578.
type Multistatus struct {
	Responses []Response `xml:"DAV: response"`
	SyncToken string     `xml:"DAV: sync-token"`
}

// Response is one member of a Multistatus.
type Response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []Propstat `xml:"DAV: propstat"`
}

// Propstat is a set of properties that share a status.
type Propstat struct {
	Prop   Prop   `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

// Prop holds the properties kith asks CardDAV and CalDAV servers for.
type Prop struct {
	ResourceType     *ResourceType    `xml:"DAV: resourcetype"`
	DisplayName      string           `xml:"DAV: displayname"`
	ETag             string           `xml:"DAV: getetag"`
	SyncToken        string           `xml:"DAV: sync-token"`
	CTag             string           `xml:"http://calendarserver.org/ns/ getctag"`
	Principal        *Hrefs           `xml:"DAV: current-user-principal"`
	HomeSet          *Hrefs           `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	SupportedReports *SupportedReport `xml:"DAV: supported-report-set"`
	AddressData      *string          `xml:"urn:ietf:params:xml:ns:carddav address-data"`
	CalendarHomeSet  *Hrefs           `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
	Components       *Components      `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
	CalendarData     *string          `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
}

// ResourceType says what kind of collection a member is.
type ResourceType struct {
	Collection  *struct{} `xml:"DAV: collection"`
	AddressBook *struct{} `xml:"urn:ietf:params:xml:ns:carddav addressbook"`
	Calendar    *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar"`
}

// Hrefs is a property whose value is a list of hrefs.
type Hrefs struct {
	Hrefs []string `xml:"DAV: href"`
}

// Components is a calendar's supported-calendar-component-set.
type Components struct {
	Comps []struct {
		Name string `xml:"name,attr"`
	} `xml:"urn:ietf:params:xml:ns:caldav comp"`
}

// Names returns the component names (VEVENT, VTODO…).
func (c *Components) Names() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Comps))
	for _, x := range c.Comps {
		out = append(out, x.Name)
	}
	return out
}

// SupportedReport is a supported-report-set.
type SupportedReport struct {
	Reports []struct {
		SyncCollection *struct{} `xml:"DAV: report>sync-collection"`
		// Xandikos leaves out the DAV:report element.
		Bare *struct{} `xml:"DAV: sync-collection"`
	} `xml:"DAV: supported-report"`
}

// Sync reports whether the set names sync-collection.
func (s *SupportedReport) Sync() bool {
	if s == nil {
		return false
	}
	for _, r := range s.Reports {
		if r.SyncCollection != nil || r.Bare != nil {
			return true
		}
	}
	return false
}

// Code returns the HTTP status code in a DAV:status line, or 0.
func Code(status string) int {
	f := strings.Fields(status)
	if len(f) < 2 {
		return 0
	}
	var n int
	fmt.Sscanf(f[1], "%d", &n)
	return n
}

// OK returns the props of r's 200 propstats merged, and whether there were
// any. A response with a status of its own (404 for a removed member) has
// none.
func (r *Response) OK() (Prop, bool) {
	var p Prop
	found := false
	for _, ps := range r.Propstats {
		if c := Code(ps.Status); c != 0 && c/100 != 2 {
			continue
		}
		found = true
		q := ps.Prop
		if q.ResourceType != nil {
			p.ResourceType = q.ResourceType
		}
		if q.DisplayName != "" {
			p.DisplayName = q.DisplayName
		}
		if q.ETag != "" {
			p.ETag = q.ETag
		}
		if q.SyncToken != "" {
			p.SyncToken = q.SyncToken
		}
		if q.CTag != "" {
			p.CTag = q.CTag
		}
		if q.Principal != nil {
			p.Principal = q.Principal
		}
		if q.HomeSet != nil {
			p.HomeSet = q.HomeSet
		}
		if q.SupportedReports != nil {
			p.SupportedReports = q.SupportedReports
		}
		if q.AddressData != nil {
			p.AddressData = q.AddressData
		}
		if q.CalendarHomeSet != nil {
			p.CalendarHomeSet = q.CalendarHomeSet
		}
		if q.Components != nil {
			p.Components = q.Components
		}
		if q.CalendarData != nil {
			p.CalendarData = q.CalendarData
		}
	}
	return p, found
}

// ErrTooLarge is returned by Decode for an answer over its limit.
var ErrTooLarge = errors.New("answer over the size limit")

// Decode reads a multistatus body, at most limit bytes of it (no limit
// when limit <= 0): a longer body fails with ErrTooLarge.
func Decode(r io.Reader, limit int64) (*Multistatus, error) {
	if limit > 0 {
		r = &capped{r: r, left: limit}
	}
	var ms Multistatus
	if err := xml.NewDecoder(r).Decode(&ms); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, ErrTooLarge
		}
		return nil, err
	}
	return &ms, nil
}

// capped reads left bytes of r, then fails with ErrTooLarge unless r ends
// there.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(b []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells an answer of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	return n, err
}

// Resolve returns the URL href names, relative to base, cleaned of
// query and fragment.
func Resolve(base *url.URL, href string) (*url.URL, error) {
	h, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("href %q: %w", href, errors.Unwrap(err))
	}
	u := base.ResolveReference(h)
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u, nil
}

// SamePath says whether a and b name the same collection, ignoring a
// trailing slash.
func SamePath(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// NormETag returns an ETag in its quoted form: servers (or proxies) that
// send it unquoted get quotes added; a weak ETag keeps its W/ prefix.
func NormETag(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	weak := strings.HasPrefix(s, "W/")
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		s = `"` + strings.Trim(s, `"`) + `"`
	}
	if weak {
		return "W/" + s
	}
	return s
}

// MatchETag returns the form of etag sent in If-Match: quoted, and strong,
// since If-Match compares strongly and a W/ prefix, usually added by a
// proxy, would never match.
func MatchETag(etag string) string {
	return NormETag(strings.TrimPrefix(NormETag(etag), "W/"))
}

// XMLText escapes s for an XML text node.
func XMLText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
