package davserver

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kith/sync/card"
)

// Property names the server serves.
var (
	nameResourceType     = xml.Name{Space: nsDAV, Local: "resourcetype"}
	nameDisplayName      = xml.Name{Space: nsDAV, Local: "displayname"}
	nameCurrentPrincipal = xml.Name{Space: nsDAV, Local: "current-user-principal"}
	namePrincipalURL     = xml.Name{Space: nsDAV, Local: "principal-URL"}
	namePrincipalColl    = xml.Name{Space: nsDAV, Local: "principal-collection-set"}
	nameOwner            = xml.Name{Space: nsDAV, Local: "owner"}
	namePrivileges       = xml.Name{Space: nsDAV, Local: "current-user-privilege-set"}
	nameReportSet        = xml.Name{Space: nsDAV, Local: "supported-report-set"}
	nameSyncToken        = xml.Name{Space: nsDAV, Local: "sync-token"}
	nameGetETag          = xml.Name{Space: nsDAV, Local: "getetag"}
	nameContentType      = xml.Name{Space: nsDAV, Local: "getcontenttype"}
	nameLastModified     = xml.Name{Space: nsDAV, Local: "getlastmodified"}
	nameCTag             = xml.Name{Space: nsCS, Local: "getctag"}
	nameHomeSet          = xml.Name{Space: nsCard, Local: "addressbook-home-set"}
	nameAddressData      = xml.Name{Space: nsCard, Local: "address-data"}
	nameSupportedData    = xml.Name{Space: nsCard, Local: "supported-address-data"}
	nameMaxSize          = xml.Name{Space: nsCard, Local: "max-resource-size"}
	nameDescription      = xml.Name{Space: nsCard, Local: "addressbook-description"}
	nameCollations       = xml.Name{Space: nsCard, Local: "supported-collation-set"}

	nameMultiget   = xml.Name{Space: nsCard, Local: "addressbook-multiget"}
	nameQuery      = xml.Name{Space: nsCard, Local: "addressbook-query"}
	nameSync       = xml.Name{Space: nsDAV, Local: "sync-collection"}
	nameValidToken = xml.Name{Space: nsDAV, Local: "valid-sync-token"}
)

// allPropNames lists, for each kind of resource, the properties allprop
// returns: the live properties RFC 4918 defines. The properties of RFC 3744
// (ACL), 5397 (current-user-principal), 6578 (sync-token) and 6352
// (CardDAV) must not or should not be returned by allprop; a client asks
// for them by name (or with DAV:include).
var allPropNames = map[kind][]xml.Name{
	kindRoot:       {nameResourceType},
	kindPrincipals: {nameResourceType},
	kindPrincipal:  {nameResourceType, nameDisplayName},
	kindHome:       {nameResourceType, nameDisplayName},
	kindBook:       {nameResourceType, nameDisplayName},
	kindCard:       {nameResourceType, nameGetETag, nameContentType, nameLastModified},
}

// allProps lists, for each kind of resource, every property it has: what
// propname returns.
var allProps = map[kind][]xml.Name{
	kindRoot:       {nameResourceType, nameCurrentPrincipal, namePrincipalColl},
	kindPrincipals: {nameResourceType, nameCurrentPrincipal, namePrincipalColl},
	kindPrincipal: {nameResourceType, nameDisplayName, nameCurrentPrincipal, namePrincipalURL, namePrincipalColl,
		nameHomeSet},
	kindHome: {nameResourceType, nameDisplayName, nameCurrentPrincipal, nameOwner, namePrivileges},
	kindBook: {nameResourceType, nameDisplayName, nameCurrentPrincipal, nameOwner, namePrivileges, nameReportSet,
		nameSyncToken, nameCTag, nameSupportedData, nameMaxSize, nameDescription, nameCollations},
	kindCard: {nameResourceType, nameGetETag, nameContentType, nameLastModified},
}

// resource is one thing a multistatus describes.
type resource struct {
	kind kind
	href string
	card *stored
}

// davRequest carries what answering one request needs.
type davRequest struct {
	s     *Server
	r     *http.Request
	user  string
	token string // the book's sync token, read once a request
	name  string // the book's display name, read with token
	// version is the vCard version the client wants cards in ("" as
	// stored): from its address-data request, Accept header or agent.
	version string
}

// httpError is an error with the status to answer.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) serveDAV(w http.ResponseWriter, r *http.Request, user string) {
	loc, err := parsePath(r.URL.EscapedPath(), user)
	d := &davRequest{s: s, r: r, user: user}
	switch {
	case errors.Is(err, errBadPath):
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	case err != nil && r.Method == "MKCOL":
		err = d.mkcol(w, loc, false)
		if err != nil {
			s.serveError(w, r, err)
		}
		return
	case err != nil:
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case "PROPFIND":
		err = d.propfind(w, loc)
	case "REPORT":
		err = d.report(w, loc)
	case http.MethodGet, http.MethodHead:
		err = d.get(w, loc)
	case http.MethodPut:
		err = d.put(w, loc)
	case http.MethodDelete:
		err = d.delete(w, loc)
	case http.MethodOptions:
		err = d.options(w, loc)
	case "PROPPATCH":
		err = d.proppatch(w, loc)
	case "MKCOL":
		err = d.mkcol(w, loc, true)
	default:
		// COPY, MOVE, LOCK and the rest: nothing here honours them.
		var exists bool
		if exists, err = d.cardExists(loc); err == nil {
			d.notAllowed(w, loc, exists)
		}
	}
	if err != nil {
		s.serveError(w, r, err)
	}
}

func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	var xle *errXMLLimit
	var be *bodyError
	switch {
	case errors.As(err, &mbe):
		s.log.Warn("request body too large", "path", r.URL.Path, "limit", s.maxBody)
		http.Error(w, "request body larger than "+strconv.FormatInt(s.maxBody, 10)+" bytes", http.StatusRequestEntityTooLarge)
	case errors.As(err, &xle):
		s.log.Warn("request body over a limit", "path", r.URL.Path, "limit", xle.what)
		http.Error(w, xle.Error(), http.StatusRequestEntityTooLarge)
	case errors.As(err, &he):
		if he.code >= 500 {
			s.log.Error("CardDAV request failed", "method", r.Method, "path", r.URL.Path, "err", he.msg)
		}
		http.Error(w, he.msg, he.code)
	case errors.As(err, &be):
		// A client mistake or a client gone: nothing to fix here.
		s.log.Info("request body unreadable", "method", r.Method, "path", r.URL.Path, "err", be.err)
		w.Header().Set("Connection", "close")
		http.Error(w, "request body unreadable", http.StatusBadRequest)
	case errors.Is(err, context.Canceled):
	case sqliteCode(err) == sqliteFull:
		s.log.Error("CardDAV write refused: disk full", "method", r.Method, "path", r.URL.Path, "err", err)
		http.Error(w, "insufficient storage: the server's disk is full", http.StatusInsufficientStorage)
	case isBusy(err):
		// Only after maxWriteWait: something holds the database far
		// longer than any sync does.
		s.log.Error("CardDAV write refused: database busy", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "the address book is busy; try again later", http.StatusServiceUnavailable)
	default:
		s.log.Error("CardDAV request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// syncToken returns the book's current token.
func (d *davRequest) syncToken(ctx context.Context) (string, error) {
	if d.token == "" {
		st, err := d.s.store.state(ctx)
		if err != nil {
			return "", err
		}
		d.token, d.name = formatToken(st), st.Name
		if d.name == "" {
			d.name = d.s.bookName
		}
	}
	return d.token, nil
}

// tokenPrefix starts every sync token; the rest is "<epoch>-<revision>".
const tokenPrefix = "http://kith.invalid/ns/sync/"

func formatToken(st bookState) string {
	return tokenPrefix + st.Epoch + "-" + strconv.FormatInt(st.Rev, 10)
}

// parseToken returns the revision of a token of this book; ok is false for
// a token that is not one, of another book, from the future, or older than
// the oldest change the book remembers.
func parseToken(tok string, st bookState) (rev int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(tok), tokenPrefix)
	if !found {
		return 0, false
	}
	epoch, num, found := strings.Cut(rest, "-")
	if !found || epoch != st.Epoch {
		return 0, false
	}
	rev, err := strconv.ParseInt(num, 10, 64)
	if err != nil || rev < st.Floor || rev > st.Rev {
		return 0, false
	}
	return rev, true
}

func (d *davRequest) propfind(w http.ResponseWriter, loc location) error {
	req, err := decodeRequest(d.r)
	if err != nil {
		if isTooLarge(err) {
			return err
		}
		return errorf(http.StatusBadRequest, "PROPFIND body: %v", err)
	}
	if req.XMLName.Local != "" && req.XMLName != (xml.Name{Space: nsDAV, Local: "propfind"}) {
		return errorf(http.StatusBadRequest, "PROPFIND body: want DAV:propfind, not %s", req.XMLName.Local)
	}
	pr := req.propRequest()
	d.setVersion(pr)
	depth := d.r.Header.Get("Depth")
	if depth != "" && depth != "0" && depth != "1" && !strings.EqualFold(depth, "infinity") {
		return errorf(http.StatusBadRequest, "bad Depth header %q", depth)
	}
	// No Depth is answered as 1, as clients that leave it out expect; an
	// explicit infinity is answered in full (RFC 4918 9.1): the tree is
	// four levels deep and a book is flat, so that costs a listing.
	deep := depth != "0"
	infinite := strings.EqualFold(depth, "infinity")
	ctx := d.r.Context()

	var self resource
	switch loc.kind {
	case kindRoot:
		self = resource{kind: kindRoot, href: "/"}
	case kindPrincipals:
		self = resource{kind: kindPrincipals, href: davPrefix + "/"}
	case kindPrincipal:
		self = resource{kind: kindPrincipal, href: principalPath(d.user)}
	case kindHome:
		self = resource{kind: kindHome, href: homePath(d.user)}
	case kindBook:
		self = resource{kind: kindBook, href: bookPath(d.user)}
	case kindCard:
		st, err := d.s.store.get(ctx, loc.name)
		if errors.Is(err, errNotFound) {
			return errorf(http.StatusNotFound, "no card %s", loc.name)
		}
		if err != nil {
			return err
		}
		self = resource{kind: kindCard, href: cardPath(d.user, loc.name), card: &st}
		deep = false
	}
	if _, err := d.syncToken(ctx); err != nil {
		return err
	}
	m := startMultiStatus(w)
	d.writeResource(m, self, pr)
	for level := loc.kind; deep; level++ {
		switch level {
		case kindPrincipals:
			d.writeResource(m, resource{kind: kindPrincipal, href: principalPath(d.user)}, pr)
		case kindPrincipal:
			d.writeResource(m, resource{kind: kindHome, href: homePath(d.user)}, pr)
		case kindHome:
			d.writeResource(m, resource{kind: kindBook, href: bookPath(d.user)}, pr)
		case kindBook:
			err := d.s.store.each(ctx, 0, d.reading(pr), func(st stored) error {
				d.writeResource(m, resource{kind: kindCard, href: cardPath(d.user, st.Href), card: &st}, pr)
				return m.err
			})
			if err != nil {
				return m.abort(err)
			}
		}
		// The root lists nothing below it; cards have no members.
		deep = infinite && level != kindRoot && level < kindBook
	}
	return m.end("")
}

// abort ends a multistatus whose status line is already sent: the error
// can only be logged, and the body is left unterminated so the client sees
// a broken response rather than a short one.
func (m *msWriter) abort(err error) error {
	m.w.Flush()
	if m.err != nil {
		return nil // the client went away
	}
	return fmt.Errorf("writing multistatus: %w", err)
}

// writeResource writes the properties pr asks for of res.
func (d *davRequest) writeResource(m *msWriter, res resource, pr propRequest) {
	if pr.propName {
		var found []prop
		for _, n := range allProps[res.kind] {
			found = append(found, prop{name: n})
		}
		m.response(res.href, found, nil)
		return
	}
	wants := pr.props
	if pr.allProp {
		wants = nil
		for _, n := range allPropNames[res.kind] {
			wants = append(wants, want{name: n})
		}
		for _, w := range pr.props { // DAV:include
			if !slices.Contains(allPropNames[res.kind], w.name) {
				wants = append(wants, w)
			}
		}
	}
	var found []prop
	var missing []xml.Name
	for _, w := range wants {
		if v, ok := d.propValue(res, w); ok {
			found = append(found, prop{name: w.name, inner: v})
		} else {
			missing = append(missing, w.name)
		}
	}
	m.response(res.href, found, missing)
}

func hrefXML(p string) string { return "<D:href>" + escape(p) + "</D:href>" }

// propValue returns the escaped XML content of property w of res.
func (d *davRequest) propValue(res resource, w want) (string, bool) {
	switch w.name {
	case nameResourceType:
		switch res.kind {
		case kindPrincipal:
			return "<D:collection/><D:principal/>", true
		case kindBook:
			return "<D:collection/><C:addressbook/>", true
		case kindCard:
			return "", true
		default:
			return "<D:collection/>", true
		}
	case nameCurrentPrincipal:
		return hrefXML(principalPath(d.user)), true
	}
	switch res.kind {
	case kindRoot, kindPrincipals:
		if w.name == namePrincipalColl {
			return hrefXML(davPrefix + "/"), true
		}
	case kindPrincipal:
		switch w.name {
		case nameDisplayName:
			return escape(d.user), true
		case namePrincipalURL:
			return hrefXML(principalPath(d.user)), true
		case namePrincipalColl:
			return hrefXML(davPrefix + "/"), true
		case nameHomeSet:
			return hrefXML(homePath(d.user)), true
		}
	case kindHome:
		switch w.name {
		case nameDisplayName:
			return "Contacts", true
		case nameOwner:
			return hrefXML(principalPath(d.user)), true
		case namePrivileges:
			return "<D:privilege><D:read/></D:privilege><D:privilege><D:read-current-user-privilege-set/></D:privilege>", true
		}
	case kindBook:
		switch w.name {
		case nameDisplayName:
			return escape(d.name), true
		case nameOwner:
			return hrefXML(principalPath(d.user)), true
		case namePrivileges:
			var b strings.Builder
			for _, p := range []string{"read", "write", "write-content", "write-properties", "bind", "unbind", "read-current-user-privilege-set"} {
				b.WriteString("<D:privilege><D:" + p + "/></D:privilege>")
			}
			return b.String(), true
		case nameReportSet:
			return "<D:supported-report><D:report><C:addressbook-multiget/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><C:addressbook-query/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>", true
		case nameSyncToken, nameCTag:
			return escape(d.token), true
		case nameSupportedData:
			return `<C:address-data-type content-type="text/vcard" version="3.0"/>` +
				`<C:address-data-type content-type="text/vcard" version="4.0"/>`, true
		case nameMaxSize:
			size := d.s.maxBody
			if l := d.s.cardLim.Size; l > 0 && l < size {
				size = l
			}
			return strconv.FormatInt(size, 10), true
		case nameDescription:
			return "The contacts kith merged from all its sources", true
		case nameCollations:
			var b strings.Builder
			for _, c := range collations {
				b.WriteString("<C:supported-collation>" + c + "</C:supported-collation>")
			}
			return b.String(), true
		}
	case kindCard:
		st := res.card
		switch w.name {
		case nameGetETag:
			return escape(quoteETag(reprETag(st.ETag, conversion(st.Version, d.version)))), true
		case nameContentType:
			return "text/vcard; charset=utf-8", true
		case nameLastModified:
			return st.Modified.UTC().Format(http.TimeFormat), true
		case nameAddressData:
			if st.Data == nil {
				return "", false
			}
			return escape(string(render(st.Data, d.version, w.fields))), true
		}
	}
	return "", false
}

// reading returns what a listing answering pr must read of each card: its
// data for address-data, else its version when the client gets
// conversions (their ETags differ), else nothing.
func (d *davRequest) reading(pr propRequest) reading {
	if _, ok := pr.addressData(); ok {
		return readData
	}
	if d.version != "" {
		return readVersion
	}
	return readNone
}

// setVersion works out the vCard version the client wants, from the
// address-data it asked for or its headers.
func (d *davRequest) setVersion(pr propRequest) {
	ad, _ := pr.addressData()
	d.version = wantVersion(d.r, ad.version)
}

// isTooLarge reports whether err is a request body over a limit: its size
// or the XML limits.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	var xle *errXMLLimit
	return errors.As(err, &mbe) || errors.As(err, &xle)
}

func quoteETag(etag string) string { return `"` + etag + `"` }

// parseETags reads an If-Match or If-None-Match header: "*" or a list of
// entity tags. Weak tags are compared as strong ones.
func parseETags(h string) []string {
	var out []string
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		t = strings.Trim(t, `"`)
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func conditions(r *http.Request) cond {
	return cond{ifMatch: parseETags(r.Header.Get("If-Match")), ifNoneMatch: parseETags(r.Header.Get("If-None-Match"))}
}

func (d *davRequest) get(w http.ResponseWriter, loc location) error {
	if loc.kind != kindCard {
		if d.r.Method == http.MethodHead {
			return nil
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "kith CardDAV server. Address book: %s\n", bookPath(d.user))
		return nil
	}
	st, err := d.s.store.get(d.r.Context(), loc.name)
	if errors.Is(err, errNotFound) {
		return errorf(http.StatusNotFound, "no card %s", loc.name)
	}
	if err != nil {
		return err
	}
	version := wantVersion(d.r, "")
	tag := reprETag(st.ETag, conversion(st.Version, version))
	h := w.Header()
	h.Set("ETag", quoteETag(tag))
	h.Set("Last-Modified", st.Modified.UTC().Format(http.TimeFormat))
	h.Add("Vary", "Accept, User-Agent")
	for _, t := range parseETags(d.r.Header.Get("If-None-Match")) {
		if t == "*" || t == tag {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	body := render(st.Data, version, nil)
	h.Set("Content-Type", "text/vcard; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if d.r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(body)
	if err != nil {
		return nil // the client went away
	}
	return nil
}

// acceptedTypes are the Content-Types a PUT may carry.
var acceptedTypes = map[string]bool{"text/vcard": true, "text/x-vcard": true, "text/directory": true}

func (d *davRequest) put(w http.ResponseWriter, loc location) error {
	if loc.kind != kindCard {
		d.notAllowed(w, loc, true)
		return nil
	}
	if ct := d.r.Header.Get("Content-Type"); ct != "" {
		t, _, err := mime.ParseMediaType(ct)
		if err != nil || !acceptedTypes[t] {
			writeError(w, http.StatusUnsupportedMediaType, xml.Name{Space: nsCard, Local: "supported-address-data"}, "")
			return nil
		}
	}
	body, err := io.ReadAll(d.r.Body)
	if err != nil {
		return err
	}
	c, err := d.s.cardLim.Decode(body)
	var le *card.LimitError
	if errors.As(err, &le) {
		d.s.log.Info("card refused: over a limit", "href", loc.name, "err", err)
		writeError(w, http.StatusForbidden, nameMaxSize, "")
		return nil
	}
	if err != nil {
		d.s.log.Info("card refused: not a vCard", "href", loc.name, "err", err)
		writeError(w, http.StatusBadRequest, xml.Name{Space: nsCard, Local: "valid-address-data"}, "")
		return nil
	}
	uid := c.Value("UID")
	if err := checkUID(uid); err != nil {
		d.s.log.Info("card refused", "href", loc.name, "err", err)
		writeError(w, http.StatusBadRequest, xml.Name{Space: nsCard, Local: "valid-address-data"}, "")
		return nil
	}
	// Stored as sent, so that what the client reads back is what it wrote;
	// only text in another encoding is stored re-encoded as UTF-8.
	data, verbatim := body, true
	if !utf8.Valid(body) || strings.HasPrefix(string(body), "\uFEFF") {
		data, verbatim = card.EncodeBytes(c), false
	}
	etag, created, err := d.s.store.put(d.r.Context(), loc.name, uidKey(uid, loc.name), data, conditions(d.r))
	var uc *uidConflictError
	switch {
	case errors.Is(err, errPrecondition):
		return errorf(http.StatusPreconditionFailed, "card %s changed since it was read", loc.name)
	case errors.As(err, &uc):
		writeError(w, http.StatusConflict, xml.Name{Space: nsCard, Local: "no-uid-conflict"}, hrefXML(cardPath(d.user, uc.Href)))
		return nil
	case err != nil:
		return err
	}
	if verbatim && conversion(storedVersion(data), wantVersion(d.r, "")) == "" {
		// What this client reads back is what it sent (RFC 6352 6.3.2.3).
		w.Header().Set("ETag", quoteETag(etag))
	}
	d.s.log.Debug("card written by client", "href", loc.name, "created", created)
	if created {
		w.Header().Set("Location", cardPath(d.user, loc.name))
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// uidKey is the UID a card is stored under: its own, else one made from its
// href, so that cards without a UID never conflict with each other.
func uidKey(uid, href string) string {
	if uid == "" {
		return "href:" + href
	}
	return uid
}

func (d *davRequest) delete(w http.ResponseWriter, loc location) error {
	if loc.kind != kindCard {
		return errorf(http.StatusForbidden, "only cards can be deleted")
	}
	err := d.s.store.remove(d.r.Context(), loc.name, conditions(d.r))
	switch {
	case errors.Is(err, errPrecondition):
		return errorf(http.StatusPreconditionFailed, "card %s changed since it was read", loc.name)
	case errors.Is(err, errNotFound):
		return errorf(http.StatusNotFound, "no card %s", loc.name)
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (d *davRequest) report(w http.ResponseWriter, loc location) error {
	req, err := decodeRequest(d.r)
	if err != nil {
		if isTooLarge(err) {
			return err
		}
		return errorf(http.StatusBadRequest, "REPORT body: %v", err)
	}
	if loc.kind != kindBook {
		writeError(w, http.StatusForbidden, xml.Name{Space: nsDAV, Local: "supported-report"}, "")
		return nil
	}
	switch req.XMLName {
	case nameMultiget:
		return d.multiget(w, req)
	case nameQuery:
		return d.query(w, req)
	case nameSync:
		return d.syncCollection(w, req)
	}
	writeError(w, http.StatusForbidden, xml.Name{Space: nsDAV, Local: "supported-report"}, "")
	return nil
}

func (d *davRequest) multiget(w http.ResponseWriter, req *xRequest) error {
	pr := req.propRequest()
	d.setVersion(pr)
	ctx := d.r.Context()
	m := startMultiStatus(w)
	for _, href := range req.Hrefs {
		p, err := hrefPath(href)
		if err != nil {
			m.status(href, http.StatusBadRequest)
			continue
		}
		loc, err := parsePath(p, d.user)
		switch {
		case errors.Is(err, errBadPath):
			m.status(href, http.StatusBadRequest)
			continue
		case err != nil || loc.kind != kindCard:
			m.status(href, http.StatusNotFound)
			continue
		}
		st, err := d.s.store.get(ctx, loc.name)
		if errors.Is(err, errNotFound) {
			m.status(href, http.StatusNotFound)
			continue
		}
		if err != nil {
			return m.abort(err)
		}
		d.writeResource(m, resource{kind: kindCard, href: href, card: &st}, pr)
	}
	return m.end("")
}

// query answers addressbook-query. A filter with no prop-filter matches
// every card (go-webdav's matcher matches none).
func (d *davRequest) query(w http.ResponseWriter, req *xRequest) error {
	f := xFilter{}
	if req.Filter != nil {
		f = *req.Filter
	}
	var ec *errCollation
	if err := f.check(); errors.As(err, &ec) {
		writeError(w, http.StatusForbidden, xml.Name{Space: nsCard, Local: "supported-collation"}, "")
		return nil
	} else if err != nil {
		return errorf(http.StatusBadRequest, "filter: %v", err)
	}
	limit := 0
	if req.Limit != nil {
		n, err := strconv.Atoi(strings.TrimSpace(req.Limit.NResults))
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "bad nresults %q", req.Limit.NResults)
		}
		limit = n
	}
	pr := req.propRequest()
	d.setVersion(pr)
	ctx := d.r.Context()
	m := startMultiStatus(w)
	n := 0
	truncated := false
	err := d.s.store.each(ctx, 0, readData, func(st stored) error {
		if len(f.Props) > 0 {
			c, err := card.Decode(st.Data)
			if err != nil || !f.match(c) {
				return nil
			}
		}
		if req.Limit != nil && n >= limit {
			truncated = true
			return errStop
		}
		n++
		d.writeResource(m, resource{kind: kindCard, href: cardPath(d.user, st.Href), card: &st}, pr)
		return m.err
	})
	if err != nil && !errors.Is(err, errStop) {
		return m.abort(err)
	}
	if truncated {
		m.status(bookPath(d.user), http.StatusInsufficientStorage)
	}
	return m.end("")
}

var errStop = errors.New("stop")

// syncCollection answers an RFC 6578 sync-collection report: without a
// token every card, with one the cards changed since and the hrefs deleted
// since (as 404), then the new token.
func (d *davRequest) syncCollection(w http.ResponseWriter, req *xRequest) error {
	ctx := d.r.Context()
	st, err := d.s.store.state(ctx)
	if err != nil {
		return err
	}
	d.token = formatToken(st)
	var since int64
	if req.SyncToken != nil && strings.TrimSpace(*req.SyncToken) != "" {
		var ok bool
		if since, ok = parseToken(*req.SyncToken, st); !ok {
			writeError(w, http.StatusForbidden, nameValidToken, "")
			return nil
		}
	}
	limit := -1
	if req.Limit != nil {
		n, err := strconv.Atoi(strings.TrimSpace(req.Limit.NResults))
		if err != nil || n <= 0 {
			return errorf(http.StatusBadRequest, "bad nresults %q", req.Limit.NResults)
		}
		limit = n
	}
	pr := req.propRequest()
	d.setVersion(pr)
	m := startMultiStatus(w)
	token := d.token
	n := 0
	truncated := false
	err = d.s.store.each(ctx, since, d.reading(pr), func(c stored) error {
		if limit >= 0 && n >= limit {
			truncated = true
			return errStop
		}
		n++
		href := cardPath(d.user, c.Href)
		if c.Deleted {
			m.status(href, http.StatusNotFound)
		} else {
			d.writeResource(m, resource{kind: kindCard, href: href, card: &c}, pr)
		}
		if limit >= 0 {
			// Resuming after this change is safe: changes are listed in
			// revision order and each has a revision of its own.
			token = formatToken(bookState{Epoch: st.Epoch, Rev: c.Rev})
		}
		return m.err
	})
	if err != nil && !errors.Is(err, errStop) {
		return m.abort(err)
	}
	if truncated {
		m.status(bookPath(d.user), http.StatusInsufficientStorage)
	} else {
		token = d.token
	}
	return m.end(token)
}
