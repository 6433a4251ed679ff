package davserver

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// XML namespaces of the properties the server knows.
const (
	nsDAV  = "DAV:"
	nsCard = "urn:ietf:params:xml:ns:carddav"
	nsCS   = "http://calendarserver.org/ns/"
)

var prefixes = map[string]string{nsDAV: "D", nsCard: "C", nsCS: "CS"}

// xProp is a DAV:prop element of a request: the properties asked for.
type xProp struct {
	Any []xWant `xml:",any"`
}

// xWant is one property asked for. The attributes and children are those of
// CARDDAV:address-data (RFC 6352 section 10.4).
type xWant struct {
	XMLName     xml.Name
	ContentType string    `xml:"content-type,attr"`
	Version     string    `xml:"version,attr"`
	Props       []xNamed  `xml:"urn:ietf:params:xml:ns:carddav prop"`
	AllProp     *struct{} `xml:"urn:ietf:params:xml:ns:carddav allprop"`
}

type xNamed struct {
	Name string `xml:"name,attr"`
}

// xRequest is a PROPFIND or REPORT body; which fields are set depends on
// the root element.
type xRequest struct {
	XMLName  xml.Name
	Prop     *xProp    `xml:"DAV: prop"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	Include  *xProp    `xml:"DAV: include"`
	PropName *struct{} `xml:"DAV: propname"`
	// addressbook-multiget
	Hrefs []string `xml:"DAV: href"`
	// sync-collection
	SyncToken *string `xml:"DAV: sync-token"`
	SyncLevel string  `xml:"DAV: sync-level"`
	// sync-collection (DAV:) and addressbook-query (CARDDAV:)
	Limit *xLimit `xml:"limit"`
	// addressbook-query
	Filter *xFilter `xml:"urn:ietf:params:xml:ns:carddav filter"`
}

type xLimit struct {
	NResults string `xml:"nresults"`
}

type xFilter struct {
	Test  string        `xml:"test,attr"`
	Props []xPropFilter `xml:"urn:ietf:params:xml:ns:carddav prop-filter"`
}

type xPropFilter struct {
	Name         string         `xml:"name,attr"`
	Test         string         `xml:"test,attr"`
	IsNotDefined *struct{}      `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatches  []xTextMatch   `xml:"urn:ietf:params:xml:ns:carddav text-match"`
	Params       []xParamFilter `xml:"urn:ietf:params:xml:ns:carddav param-filter"`
}

type xParamFilter struct {
	Name         string      `xml:"name,attr"`
	IsNotDefined *struct{}   `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatch    *xTextMatch `xml:"urn:ietf:params:xml:ns:carddav text-match"`
}

type xTextMatch struct {
	Text      string `xml:",chardata"`
	Negate    string `xml:"negate-condition,attr"`
	MatchType string `xml:"match-type,attr"`
	Collation string `xml:"collation,attr"`
}

// Limits on XML request bodies, on top of the body size limit: no client
// comes near them, and they keep a hostile body from costing more memory
// than its size (every element and attribute becomes a Go value).
const (
	maxXMLDepth = 32
	// maxXMLNodes bounds elements plus attributes in one body: a
	// multiget of a 10,000-card book stays well below it.
	maxXMLNodes = 200_000
	// maxProps bounds the properties one PROPFIND, REPORT or PROPPATCH
	// names; clients ask for a few dozen at most.
	maxProps = 500
)

// errXMLLimit is a request body over one of the limits above (HTTP 413).
type errXMLLimit struct{ what string }

func (e *errXMLLimit) Error() string { return "XML body: " + e.what }

// limitedTokens hands on an XML body's raw tokens, failing once the body is
// nested deeper than maxXMLDepth or has more than maxXMLNodes elements and
// attributes. The decoder wrapped around it resolves namespaces.
type limitedTokens struct {
	d            *xml.Decoder
	depth, nodes int
}

func (l *limitedTokens) Token() (xml.Token, error) {
	t, err := l.d.RawToken()
	switch t := t.(type) {
	case xml.StartElement:
		l.depth++
		l.nodes += 1 + len(t.Attr)
		if l.depth > maxXMLDepth {
			return nil, &errXMLLimit{what: "nested deeper than " + strconv.Itoa(maxXMLDepth) + " elements"}
		}
		if l.nodes > maxXMLNodes {
			return nil, &errXMLLimit{what: "more than " + strconv.Itoa(maxXMLNodes) + " elements and attributes"}
		}
	case xml.EndElement:
		l.depth--
	}
	return t, err
}

// newDecoder returns a decoder of an XML request body under the limits.
func newDecoder(r io.Reader) *xml.Decoder {
	inner := xml.NewDecoder(r)
	d := xml.NewTokenDecoder(&limitedTokens{d: inner})
	d.Strict = true
	return d
}

// decodeBody decodes an XML request body into v. ok is false for an empty
// body.
func decodeBody(r *http.Request, v any) (ok bool, err error) {
	err = newDecoder(r.Body).Decode(v)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return err == nil, err
}

// decodeRequest reads an XML request body. An empty body gives a zero
// request (PROPFIND then means allprop).
func decodeRequest(r *http.Request) (*xRequest, error) {
	var req xRequest
	if _, err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	n := 0
	if req.Prop != nil {
		n += len(req.Prop.Any)
	}
	if req.Include != nil {
		n += len(req.Include.Any)
	}
	if n > maxProps {
		return nil, &errXMLLimit{what: "more than " + strconv.Itoa(maxProps) + " properties asked for"}
	}
	return &req, nil
}

// want is one property a client asked for.
type want struct {
	name xml.Name
	// version is the vCard version asked for in address-data ("" any).
	version string
	// fields limits address-data to these vCard properties (nil: all).
	fields []string
}

// propRequest is what a PROPFIND or REPORT asks for.
type propRequest struct {
	allProp, propName bool
	props             []want
}

func (x *xRequest) propRequest() propRequest {
	var pr propRequest
	switch {
	case x.PropName != nil:
		pr.propName = true
	case x.Prop != nil:
		pr.props = x.Prop.wants()
	default:
		pr.allProp = true
		if x.Include != nil {
			pr.props = x.Include.wants()
		}
	}
	return pr
}

// wants returns the properties p names.
func (x *xProp) wants() []want {
	var out []want
	for _, w := range x.Any {
		wt := want{name: w.XMLName}
		if w.XMLName == (xml.Name{Space: nsCard, Local: "address-data"}) {
			wt.version = strings.TrimSpace(w.Version)
			if wt.version == "" {
				wt.version = versionParam(w.ContentType)
			}
			if w.AllProp == nil {
				for _, p := range w.Props {
					wt.fields = append(wt.fields, strings.ToUpper(p.Name))
				}
			}
		}
		out = append(out, wt)
	}
	return out
}

// addressData returns the address-data property asked for, if any.
func (pr propRequest) addressData() (want, bool) {
	for _, w := range pr.props {
		if w.name == nameAddressData {
			return w, true
		}
	}
	return want{}, false
}

// versionParam returns the version parameter of a media type such as
// `text/vcard; version=4.0`.
func versionParam(mediaType string) string {
	for _, part := range strings.Split(mediaType, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "version") {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// prop is a property value ready to write: inner is escaped XML.
type prop struct {
	name  xml.Name
	inner string
}

// msWriter streams a 207 Multi-Status body.
type msWriter struct {
	w   *bufio.Writer
	err error
}

func startMultiStatus(w http.ResponseWriter) *msWriter {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusMultiStatus)
	m := &msWriter{w: bufio.NewWriterSize(w, 32<<10)}
	m.s(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/">`)
	return m
}

func (m *msWriter) s(s string) {
	if m.err == nil {
		_, m.err = m.w.WriteString(s)
	}
}

// response writes one resource: the properties found (200) and those not (404).
func (m *msWriter) response(href string, found []prop, missing []xml.Name) {
	m.s("<D:response><D:href>")
	m.s(escape(href))
	m.s("</D:href>")
	if len(found) > 0 {
		m.s("<D:propstat><D:prop>")
		for _, p := range found {
			m.element(p.name, p.inner)
		}
		m.s("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	}
	if len(missing) > 0 {
		m.s("<D:propstat><D:prop>")
		for _, n := range missing {
			m.element(n, "")
		}
		m.s("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>")
	}
	if len(found) == 0 && len(missing) == 0 {
		m.s("<D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	}
	m.s("</D:response>\n")
}

// status writes a resource with a status and no properties.
func (m *msWriter) status(href string, code int) {
	m.s("<D:response><D:href>")
	m.s(escape(href))
	m.s("</D:href><D:status>")
	m.s(statusLine(code))
	m.s("</D:status></D:response>\n")
}

// element writes <name>inner</name> with the known prefixes, or a
// namespace declaration of its own for an unknown namespace.
func (m *msWriter) element(n xml.Name, inner string) {
	m.s(openTag(n))
	if inner == "" {
		m.s("/>")
		return
	}
	m.s(">")
	m.s(inner)
	m.s("</")
	m.s(qname(n))
	m.s(">")
}

// end closes the body, with a sync token when token is not "".
func (m *msWriter) end(token string) error {
	if token != "" {
		m.s("<D:sync-token>" + escape(token) + "</D:sync-token>")
	}
	m.s("</D:multistatus>\n")
	if m.err == nil {
		m.err = m.w.Flush()
	}
	return m.err
}

func qname(n xml.Name) string {
	if p, ok := prefixes[n.Space]; ok {
		return p + ":" + n.Local
	}
	if n.Space == "" {
		return n.Local
	}
	return "X:" + n.Local
}

func openTag(n xml.Name) string {
	_, known := prefixes[n.Space]
	if known || n.Space == "" {
		return "<" + qname(n)
	}
	return "<X:" + n.Local + ` xmlns:X="` + strings.ReplaceAll(escape(n.Space), `"`, "&quot;") + `"`
}

func statusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// escape escapes text for XML content. A carriage return is written as a
// character reference so that it survives XML parsers, which turn a literal
// CRLF into LF.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>\r") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// writeError writes a DAV:error body naming a failed precondition.
func writeError(w http.ResponseWriter, code int, cond xml.Name, inner string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(code)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">`)
	b.WriteString(openTag(cond))
	if inner == "" {
		b.WriteString("/>")
	} else {
		fmt.Fprintf(&b, ">%s</%s>", inner, qname(cond))
	}
	b.WriteString("</D:error>\n")
	io.WriteString(w, b.String())
}
