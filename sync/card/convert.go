package card

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"
)

// Names of properties and parameters ToV3 writes that go-vcard has no
// constant for.
const (
	fieldAppleKind   = "X-ADDRESSBOOKSERVER-KIND"
	fieldAppleMember = "X-ADDRESSBOOKSERVER-MEMBER"
	fieldAppleShowAs = "X-ABSHOWAS"
	fieldAnniversary = "X-ANNIVERSARY"
	paramOmitYear    = "X-APPLE-OMIT-YEAR"
	omitYear         = "1604" // the leap year Apple uses for dates without one
)

// binaryProps are the properties whose 3.0 value is inline binary unless
// VALUE=uri says otherwise.
var binaryProps = map[string]bool{
	vcard.FieldPhoto: true, vcard.FieldLogo: true, vcard.FieldSound: true, vcard.FieldKey: true,
}

// droppedParams are 4.0 parameters that mean nothing in 3.0.
var droppedParams = []string{vcard.ParamPID, vcard.ParamAltID, vcard.ParamCalendarScale, "INDEX", "LEVEL"}

// ToV3 returns a copy of c converted to vCard 3.0, the version khard and
// Apple clients read. c is not changed.
//
//   - VERSION becomes 3.0; N and FN, which 3.0 requires, are added when
//     missing (FN from N, ORG or EMAIL).
//   - CHARSET and ENCODING=QUOTED-PRINTABLE/8BIT/7BIT are dropped (values are
//     already decoded); ENCODING=BASE64 becomes ENCODING=b; VALUE=URL becomes
//     VALUE=uri.
//   - 4.0: tel: URIs become plain numbers (TYPE kept); data: URIs in PHOTO,
//     LOGO, SOUND and KEY become ENCODING=b;TYPE=JPEG and the like; other
//     URIs there get VALUE=uri; VALUE=uri elsewhere is dropped; the lowest
//     PREF of a property becomes TYPE=pref; MEDIATYPE becomes TYPE; PID,
//     ALTID, CALSCALE, INDEX, LEVEL and CLIENTPIDMAP are dropped;
//     KIND:group/org becomes X-ADDRESSBOOKSERVER-KIND (and X-ABShowAs:COMPANY
//     for org), MEMBER becomes X-ADDRESSBOOKSERVER-MEMBER, ANNIVERSARY
//     becomes X-ANNIVERSARY; a date without a year (--0415) becomes Apple's
//     1604-04-15 with X-APPLE-OMIT-YEAR=1604, a full date in basic form
//     (19850412) the extended 1985-04-12; GEO:geo:1,2 becomes GEO:1;2.
//   - 2.1: Samsung's custom labels (TEL;X-CUSTOM(CHARSET=UTF-8,
//     ENCODING=QUOTED-PRINTABLE,=E5=A4=A7)) become a group with an
//     X-ABLabel, as Apple writes them; other parameters whose names 3.0
//     cannot parse are dropped, as they make khard reject the whole card.
//   - Unknown and X- properties, groups and other parameters are kept
//     verbatim. Property and parameter names come out upper-case.
//
// The rules for 4.0 alone (dropping VALUE=uri, dates without a year) apply
// to cards with VERSION 4.x or none. ToV3 leaves a valid 3.0 card as it is,
// and ToV3(ToV3(c)) equals ToV3(c).
func ToV3(c vcard.Card) vcard.Card {
	version := strings.TrimSpace(c.Value(vcard.FieldVersion))
	v4 := version == "" || strings.HasPrefix(version, "4")
	out := make(vcard.Card, len(c)+2)
	out[vcard.FieldVersion] = []*vcard.Field{{Value: "3.0"}}

	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, key := range names {
		name := upperASCII(key)
		switch name {
		case vcard.FieldVersion, vcard.FieldClientPIDMap:
			continue
		case vcard.FieldKind:
			convertKind(first(c[key]), c, out)
			continue
		}
		pref := minPref(c[key])
		for _, f := range c[key] {
			if f == nil {
				continue
			}
			nf := &vcard.Field{Value: f.Value, Group: f.Group, Params: copyParams(f.Params)}
			toName := convertField(name, nf, pref, v4)
			if len(nf.Params) == 0 {
				nf.Params = nil
			}
			out[toName] = append(out[toName], nf)
		}
	}
	customLabels(out)
	if len(out[vcard.FieldFormattedName]) == 0 {
		out[vcard.FieldFormattedName] = []*vcard.Field{{Value: EscapeText(derivedName(out))}}
	}
	if len(out[vcard.FieldName]) == 0 {
		n := ";;;;"
		if strings.EqualFold(out.Value(fieldAppleKind), "group") {
			n = out.Value(vcard.FieldFormattedName) + n
		}
		out[vcard.FieldName] = []*vcard.Field{{Value: n}}
	}
	return out
}

// convertField converts one property in place and returns its 3.0 name.
func convertField(name string, f *vcard.Field, pref int, v4 bool) string {
	p := f.Params
	delete(p, "CHARSET")
	if enc, ok := p["ENCODING"]; ok {
		kept := enc[:0]
		for _, e := range enc {
			switch strings.ToUpper(e) {
			case "QUOTED-PRINTABLE", "8BIT", "7BIT":
			case "BASE64":
				kept = append(kept, "b")
			default:
				kept = append(kept, e)
			}
		}
		setOrDelete(p, "ENCODING", kept)
	}
	if vals, ok := p[vcard.ParamValue]; ok {
		kept := vals[:0]
		for _, v := range vals {
			switch {
			case strings.EqualFold(v, "URL"):
				kept = append(kept, "uri")
			case strings.EqualFold(v, "INLINE"):
			case strings.EqualFold(v, "uri") && v4 && !binaryProps[name]:
			default:
				kept = append(kept, v)
			}
		}
		setOrDelete(p, vcard.ParamValue, kept)
	}
	if vals, ok := p[vcard.ParamPreferred]; ok {
		delete(p, vcard.ParamPreferred)
		if n, err := strconv.Atoi(strings.TrimSpace(first(vals))); err == nil && n == pref && !hasType(p, "pref") {
			p[vcard.ParamType] = append(p[vcard.ParamType], "pref")
		}
	}
	if mt, ok := p[vcard.ParamMediaType]; ok {
		delete(p, vcard.ParamMediaType)
		if binaryProps[name] && len(p[vcard.ParamType]) == 0 {
			if t := mediaTypeToType(first(mt)); t != "" {
				p[vcard.ParamType] = []string{t}
			}
		}
	}
	for _, k := range droppedParams {
		delete(p, k)
	}
	for k := range p {
		// A name 3.0 cannot parse makes readers such as khard reject the
		// whole card; Samsung's custom labels are rescued by customLabels.
		if !validParamName(k) && !strings.HasPrefix(k, customPrefix) {
			delete(p, k)
		}
	}

	switch name {
	case vcard.FieldTelephone:
		if hasPrefixFold(f.Value, "tel:") {
			f.Value = telToText(f.Value)
			delete(p, vcard.ParamValue)
		}
	case vcard.FieldPhoto, vcard.FieldLogo, vcard.FieldSound, vcard.FieldKey:
		convertBinary(f)
	case vcard.FieldGeolocation:
		f.Value = geoToV3(f.Value)
	case vcard.FieldMember:
		return fieldAppleMember
	case vcard.FieldBirthday, vcard.FieldAnniversary:
		if v4 {
			if m := noYear.FindStringSubmatch(f.Value); m != nil && len(p[vcard.ParamValue]) == 0 {
				f.Value = omitYear + "-" + m[1] + "-" + m[2]
				p[paramOmitYear] = []string{omitYear}
			} else if m := basicDate.FindStringSubmatch(f.Value); m != nil && len(p[vcard.ParamValue]) == 0 {
				// 4.0's basic form; 3.0 clients (and the card ToV4 was
				// given) write the extended one.
				f.Value = m[1] + "-" + m[2] + "-" + m[3]
			}
		}
		if name == vcard.FieldAnniversary {
			return fieldAnniversary
		}
	}
	return name
}

// basicDate matches a full date in ISO 8601's basic form, YYYYMMDD.
var basicDate = regexp.MustCompile(`^(\d{4})(\d\d)(\d\d)$`)

// noYear matches a vCard 4.0 date without a year: --MMDD or --MM-DD.
var noYear = regexp.MustCompile(`^--(\d\d)-?(\d\d)$`)

// convertKind turns a 4.0 KIND into Apple's X-ADDRESSBOOKSERVER-KIND (and
// X-ABShowAs:COMPANY for an organisation), unless the card has them.
func convertKind(f *vcard.Field, c, out vcard.Card) {
	if f == nil {
		return
	}
	kind := strings.ToLower(strings.TrimSpace(f.Value))
	if kind == "" || kind == "individual" {
		return
	}
	if len(c[fieldAppleKind]) == 0 {
		out[fieldAppleKind] = append(out[fieldAppleKind], &vcard.Field{Value: kind})
	}
	if kind == "org" && len(c[fieldAppleShowAs]) == 0 {
		out[fieldAppleShowAs] = append(out[fieldAppleShowAs], &vcard.Field{Value: "COMPANY"})
	}
}

// convertBinary turns a data: URI into inline base64 and marks other URIs
// VALUE=uri, as 3.0 reads PHOTO, LOGO, SOUND and KEY as binary by default.
func convertBinary(f *vcard.Field) {
	p := f.Params
	if len(p["ENCODING"]) > 0 {
		return
	}
	v := f.Value
	if strings.Contains(v, `\`) {
		v = Text(v) // some writers escape the comma of a data: URI
	}
	if hasPrefixFold(v, "data:") {
		if mt, data, ok := parseDataURI(v); ok {
			f.Value = data
			delete(p, vcard.ParamValue)
			p["ENCODING"] = []string{"b"}
			if t := mediaTypeToType(mt); t != "" && len(p[vcard.ParamType]) == 0 {
				p[vcard.ParamType] = []string{t}
			}
			return
		}
	}
	if uriScheme.MatchString(v) && len(p[vcard.ParamValue]) == 0 {
		p[vcard.ParamValue] = []string{"uri"}
	}
}

var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// parseDataURI splits data:[mediatype][;base64],payload into the media type
// and the payload as base64.
func parseDataURI(v string) (mediaType, b64 string, ok bool) {
	meta, payload, found := strings.Cut(v[len("data:"):], ",")
	if !found {
		return "", "", false
	}
	parts := strings.Split(meta, ";")
	mediaType = strings.TrimSpace(parts[0])
	isBase64 := false
	for _, p := range parts[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if isBase64 {
		return mediaType, stripSpace(payload), true
	}
	raw, err := url.PathUnescape(payload)
	if err != nil {
		return "", "", false
	}
	return mediaType, base64.StdEncoding.EncodeToString([]byte(raw)), true
}

// mediaTypeToType turns image/jpeg into JPEG, the form 3.0 TYPE uses.
func mediaTypeToType(mt string) string {
	mt, _, _ = strings.Cut(mt, ";")
	_, sub, ok := strings.Cut(strings.TrimSpace(mt), "/")
	if !ok {
		return ""
	}
	sub, _, _ = strings.Cut(sub, "+")
	sub = strings.TrimPrefix(strings.ToLower(sub), "x-")
	switch sub {
	case "":
		return ""
	case "pgp-keys":
		return "PGP"
	}
	return strings.ToUpper(sub)
}

// telToText turns tel:+1-555-0100;ext=12 into +1-555-0100 ext. 12.
func telToText(v string) string {
	for hasPrefixFold(v, "tel:") {
		v = v[len("tel:"):]
	}
	num, params, _ := strings.Cut(v, ";")
	if s, err := url.PathUnescape(num); err == nil {
		num = s
	}
	for p := range strings.SplitSeq(params, ";") {
		if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "ext") && val != "" {
			num += " ext. " + val
		}
	}
	return num
}

// geoToV3 turns geo:37.38,-122.08 (4.0) and 37.38,-122.08 (2.1) into
// 37.38;-122.08.
func geoToV3(v string) string {
	s := v
	if hasPrefixFold(s, "geo:") {
		s = s[len("geo:"):]
		s, _, _ = strings.Cut(s, ";") // uncertainty and other URI parameters
	} else if strings.Contains(s, ";") {
		return v
	}
	s = strings.ReplaceAll(s, `\,`, ",")
	lat, lon, ok := strings.Cut(s, ",")
	if !ok {
		return v
	}
	lon, _, _ = strings.Cut(lon, ",") // altitude has no place in 3.0
	if _, err := strconv.ParseFloat(strings.TrimSpace(lat), 64); err != nil {
		return v
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(lon), 64); err != nil {
		return v
	}
	return strings.TrimSpace(lat) + ";" + strings.TrimSpace(lon)
}

// derivedName is the FN for a card without one: N in "Given Family" order,
// else the first ORG component, else the first email.
func derivedName(c vcard.Card) string {
	if f := c.Get(vcard.FieldName); f != nil {
		p := Components(f.Value)
		for len(p) < 5 {
			p = append(p, "")
		}
		if s := strings.Join(strings.Fields(strings.Join([]string{p[3], p[1], p[2], p[0], p[4]}, " ")), " "); s != "" {
			return s
		}
	}
	if f := c.Get(vcard.FieldOrganization); f != nil {
		if p := Components(f.Value); strings.TrimSpace(p[0]) != "" {
			return strings.TrimSpace(p[0])
		}
	}
	if f := c.Get(vcard.FieldEmail); f != nil {
		return strings.TrimSpace(Text(f.Value))
	}
	return ""
}

// minPref returns the lowest PREF among fields, or -1 when none has one.
func minPref(fields []*vcard.Field) int {
	best := -1
	for _, f := range fields {
		if f == nil {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(first(f.Params[vcard.ParamPreferred]))); err == nil && (best < 0 || n < best) {
			best = n
		}
	}
	return best
}

// copyParams returns a deep copy of p with upper-case keys.
func copyParams(p vcard.Params) vcard.Params {
	out := make(vcard.Params, len(p))
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		u := upperASCII(k)
		out[u] = append(out[u], p[k]...)
	}
	return out
}

func setOrDelete(p vcard.Params, k string, vs []string) {
	if len(vs) == 0 {
		delete(p, k)
	} else {
		p[k] = vs
	}
}

func hasType(p vcard.Params, t string) bool {
	for _, v := range p[vcard.ParamType] {
		if strings.EqualFold(v, t) {
			return true
		}
	}
	return false
}

// first returns the first element of s, or the zero value.
func first[T any](s []T) T {
	var zero T
	if len(s) == 0 {
		return zero
	}
	return s[0]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// customPrefix starts the custom label Samsung phones write into vCard 2.1 as
// a bare parameter: TEL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,=E5=A4=A7).
// The decoder keeps it as it stands, as the parameter "X-CUSTOM(CHARSET"
// with the values "UTF-8", "ENCODING=QUOTED-PRINTABLE" and "=E5=A4=A7)",
// or, without a '=' inside, as a TYPE value "X-CUSTOM(label)".
const customPrefix = "X-CUSTOM("

// customLabels moves Samsung's custom labels into Apple's form, a group with
// an X-ABLabel, which khard and Apple read.
func customLabels(c vcard.Card) {
	next := 0
	for _, fields := range c {
		for _, f := range fields {
			if n, err := strconv.Atoi(strings.TrimPrefix(f.Group, "item")); err == nil && strings.HasPrefix(f.Group, "item") && n > next {
				next = n
			}
		}
	}
	labelled := map[string]bool{}
	for _, f := range c["X-ABLABEL"] {
		labelled[f.Group] = true
	}
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, f := range c[name] {
			label, ok := takeCustomLabel(f.Params)
			if !ok || label == "" || (f.Group != "" && labelled[f.Group]) {
				continue
			}
			if f.Group == "" {
				next++
				f.Group = "item" + strconv.Itoa(next)
			}
			labelled[f.Group] = true
			c["X-ABLABEL"] = append(c["X-ABLABEL"], &vcard.Field{Value: EscapeText(label), Group: f.Group})
		}
		for _, f := range c[name] {
			if len(f.Params) == 0 {
				f.Params = nil
			}
		}
	}
}

// takeCustomLabel removes every Samsung custom label from p and returns the
// first one decoded.
func takeCustomLabel(p vcard.Params) (string, bool) {
	var raws []string
	for k, vs := range p {
		if strings.HasPrefix(k, customPrefix) {
			raws = append(raws, k+"="+strings.Join(vs, ","))
			delete(p, k)
		}
	}
	slices.Sort(raws)
	if types, ok := p[vcard.ParamType]; ok {
		kept := types[:0]
		for _, t := range types {
			if hasPrefixFold(t, customPrefix) {
				raws = append(raws, t)
				continue
			}
			kept = append(kept, t)
		}
		setOrDelete(p, vcard.ParamType, kept)
	}
	if len(raws) == 0 {
		return "", false
	}
	raw := raws[0]
	inner := strings.TrimSuffix(raw[len(customPrefix):], ")")
	var charset string
	var qp bool
	var parts []string
	for item := range strings.SplitSeq(inner, ",") {
		switch {
		case hasPrefixFold(item, "CHARSET="):
			charset = item[len("CHARSET="):]
		case hasPrefixFold(item, "ENCODING="):
			qp = strings.EqualFold(item[len("ENCODING="):], "QUOTED-PRINTABLE")
		default:
			parts = append(parts, item)
		}
	}
	label := []byte(strings.Join(parts, ","))
	if qp {
		if b, err := decodeQP(label); err == nil {
			label = b
		}
	}
	if charset != "" {
		if b, err := decodeCharset(label, charset); err == nil {
			label = b
		}
	}
	return strings.TrimSpace(paramString(label)), true
}

// validParamName reports whether 3.0 readers can parse k as a parameter name.
func validParamName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
