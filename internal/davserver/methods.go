package davserver

import (
	"encoding/xml"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// allowed returns the methods the resource at loc honours: what OPTIONS
// and every 405 answer list in Allow. exists matters for cards only.
func allowed(loc location, exists bool) []string {
	switch {
	case loc.kind == kindCard && !exists:
		return []string{"OPTIONS", "PUT"}
	case loc.kind == kindCard:
		return []string{"OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH", "PUT", "DELETE"}
	case loc.kind == kindBook:
		return []string{"OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH", "REPORT"}
	}
	return []string{"OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH"}
}

// notAllowed answers 405 Method Not Allowed with the Allow header RFC 9110
// requires.
func (d *davRequest) notAllowed(w http.ResponseWriter, loc location, exists bool) {
	w.Header().Set("Allow", strings.Join(allowed(loc, exists), ", "))
	http.Error(w, "method "+d.r.Method+" not allowed here", http.StatusMethodNotAllowed)
}

// cardExists reports whether loc is a card that exists (or not a card).
func (d *davRequest) cardExists(loc location) (bool, error) {
	if loc.kind != kindCard {
		return true, nil
	}
	_, err := d.s.store.get(d.r.Context(), loc.name)
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	return err == nil, err
}

// options answers OPTIONS: the DAV classes (RFC 4918 class 1 and 3, RFC
// 6352 addressbook) and the methods honoured here.
func (d *davRequest) options(w http.ResponseWriter, loc location) error {
	exists, err := d.cardExists(loc)
	if err != nil {
		return err
	}
	w.Header().Set("DAV", "1, 3, addressbook")
	w.Header().Set("Allow", strings.Join(allowed(loc, exists), ", "))
	w.WriteHeader(http.StatusOK)
	return nil
}

// mkcol answers MKCOL (RFC 4918 9.3, RFC 5689): kith serves one book, so
// a new collection is refused with 403, and MKCOL on anything that exists
// gets 405.
func (d *davRequest) mkcol(w http.ResponseWriter, loc location, found bool) error {
	exists := found
	if found {
		var err error
		if exists, err = d.cardExists(loc); err != nil {
			return err
		}
	}
	if exists {
		d.notAllowed(w, loc, true)
		return nil
	}
	writeError(w, http.StatusForbidden, xml.Name{Space: nsDAV, Local: "resource-must-be-null"}, "")
	return nil
}

// xPropertyUpdate is a PROPPATCH body (RFC 4918 14.19).
type xPropertyUpdate struct {
	XMLName xml.Name
	Set     []xPropUpdate `xml:"DAV: set"`
	Remove  []xPropUpdate `xml:"DAV: remove"`
}

type xPropUpdate struct {
	Prop xPropValues `xml:"DAV: prop"`
}

type xPropValues struct {
	Any []xPropValue `xml:",any"`
}

// xPropValue is one property to set or remove; only the book's
// displayname, plain text, is ever kept.
type xPropValue struct {
	XMLName xml.Name
	Text    string    `xml:",chardata"`
	Child   *struct{} `xml:",any"`
}

// maxNameLen bounds a display name a client sets.
const maxNameLen = 256

// proppatch answers PROPPATCH with a multistatus of one response holding a
// propstat per outcome, every property named. The book's displayname may
// be set (and removed, which brings back the configured name); every other
// property is protected or not kept: 403. The update is atomic (RFC 4918
// 9.2): when anything is refused, nothing is changed and the properties
// that could have been are answered 424 Failed Dependency.
func (d *davRequest) proppatch(w http.ResponseWriter, loc location) error {
	if exists, err := d.cardExists(loc); err != nil {
		return err
	} else if !exists {
		return errorf(http.StatusNotFound, "no card %s", loc.name)
	}
	var req xPropertyUpdate
	ok, err := decodeBody(d.r, &req)
	switch {
	case isTooLarge(err):
		return err
	case err != nil:
		return errorf(http.StatusBadRequest, "PROPPATCH body: %v", err)
	case !ok || req.XMLName != xml.Name{Space: nsDAV, Local: "propertyupdate"}:
		return errorf(http.StatusBadRequest, "PROPPATCH body: want DAV:propertyupdate")
	}
	type change struct {
		name  xml.Name
		value string
		set   bool
	}
	var changes []change
	for _, u := range req.Set {
		for _, p := range u.Prop.Any {
			changes = append(changes, change{name: p.XMLName, value: p.Text, set: true})
		}
	}
	for _, u := range req.Remove {
		for _, p := range u.Prop.Any {
			changes = append(changes, change{name: p.XMLName})
		}
	}
	if len(changes) == 0 {
		return errorf(http.StatusBadRequest, "PROPPATCH body: no property")
	}
	if len(changes) > maxProps {
		return &errXMLLimit{what: "more than " + strconv.Itoa(maxProps) + " properties"}
	}

	var ok200, protected, refused, invalid []xml.Name
	newName, rename := "", false
	seen := map[xml.Name]bool{}
	for i, c := range changes {
		if seen[c.name] {
			continue // named twice: answered once, the last one counts
		}
		seen[c.name] = true
		last := c
		for _, later := range changes[i+1:] {
			if later.name == c.name {
				last = later
			}
		}
		switch {
		case loc.kind == kindBook && c.name == nameDisplayName:
			v := strings.TrimSpace(last.value)
			if last.set && (v == "" || len(v) > maxNameLen || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl)) {
				invalid = append(invalid, c.name)
				continue
			}
			ok200 = append(ok200, c.name)
			newName, rename = "", true
			if last.set {
				newName = v
			}
		case isLive(c.name):
			protected = append(protected, c.name)
		default:
			refused = append(refused, c.name)
		}
	}
	failed := len(protected)+len(refused)+len(invalid) > 0
	if !failed && rename {
		if err := d.s.store.setName(d.r.Context(), newName); err != nil {
			return err
		}
	}
	m := startMultiStatus(w)
	m.s("<D:response>" + hrefXML(d.r.URL.EscapedPath()))
	if failed {
		m.propstat(ok200, http.StatusFailedDependency, "")
	} else {
		m.propstat(ok200, http.StatusOK, "")
	}
	m.propstat(protected, http.StatusForbidden, "<D:error><D:cannot-modify-protected-property/></D:error>")
	m.propstat(refused, http.StatusForbidden, "<D:responsedescription>kith keeps no other properties</D:responsedescription>")
	m.propstat(invalid, http.StatusConflict, "<D:responsedescription>a display name is 1 to 256 characters of text</D:responsedescription>")
	m.s("</D:response>\n")
	return m.end("")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// isLive reports whether n is a property the server computes (for any
// kind of resource): clients cannot set it.
func isLive(n xml.Name) bool {
	for _, names := range allProps {
		if slices.Contains(names, n) {
			return true
		}
	}
	return n == nameAddressData
}

// propstat writes one propstat of names with code, and extra XML after the
// status (a DAV:error or a responsedescription); nothing for no names.
func (m *msWriter) propstat(names []xml.Name, code int, extra string) {
	if len(names) == 0 {
		return
	}
	m.s("<D:propstat><D:prop>")
	for _, n := range names {
		m.element(n, "")
	}
	m.s("</D:prop><D:status>" + statusLine(code) + "</D:status>" + extra + "</D:propstat>")
}
