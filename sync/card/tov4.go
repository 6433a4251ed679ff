package card

import (
	"regexp"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"
)

// v3Only are 3.0 TYPE values that mean nothing in 4.0.
var v3Only = map[string]bool{"internet": true, "x400": true, "pref": true}

// ToV4 returns a copy of c converted to vCard 4.0 (RFC 6350), for the
// CardDAV clients that ask for it. c is not changed; a card whose VERSION is
// 4.x comes back as an equal copy.
//
// Other cards are first brought to 3.0 by ToV3 (which reads 2.1's oddities),
// then:
//
//   - VERSION becomes 4.0; ENCODING and CHARSET are dropped.
//   - Inline PHOTO, LOGO, SOUND and KEY (ENCODING=b) become data: URIs, their
//     TYPE=JPEG and the like the URI's media type; VALUE=uri there is
//     dropped, as a URI is 4.0's default for them.
//   - TYPE=pref becomes PREF=1; TYPE=INTERNET and X400 are dropped.
//   - Apple's X-ADDRESSBOOKSERVER-KIND becomes KIND and its
//     X-ADDRESSBOOKSERVER-MEMBER becomes MEMBER (a group card stays a
//     group); X-ANNIVERSARY becomes ANNIVERSARY.
//   - A date with X-APPLE-OMIT-YEAR (Apple's 1604-04-15) becomes --0415;
//     other dates lose their hyphens (1985-04-15 becomes 19850415, 4.0's
//     form); GEO:1;2 becomes GEO:geo:1,2.
//   - Every other property, group and parameter is kept as it stands.
func ToV4(c vcard.Card) vcard.Card {
	if strings.HasPrefix(strings.TrimSpace(c.Value(vcard.FieldVersion)), "4") {
		out := make(vcard.Card, len(c))
		for k, fields := range c {
			for _, f := range fields {
				if f == nil {
					continue
				}
				nf := &vcard.Field{Value: f.Value, Group: f.Group}
				if len(f.Params) > 0 {
					nf.Params = copyParams(f.Params)
				}
				out[k] = append(out[k], nf)
			}
		}
		return out
	}
	v3 := ToV3(c) // a fresh copy: changed in place below
	out := make(vcard.Card, len(v3)+1)
	names := make([]string, 0, len(v3))
	for name := range v3 {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch name {
		case vcard.FieldVersion:
			continue
		case fieldAppleKind:
			if f := first(v3[name]); f != nil && len(v3[vcard.FieldKind]) == 0 {
				out[vcard.FieldKind] = []*vcard.Field{{Value: strings.ToLower(strings.TrimSpace(f.Value))}}
			}
			continue
		}
		for _, f := range v3[name] {
			if f == nil {
				continue
			}
			to := fieldToV4(name, f)
			if len(f.Params) == 0 {
				f.Params = nil
			}
			out[to] = append(out[to], f)
		}
	}
	out[vcard.FieldVersion] = []*vcard.Field{{Value: "4.0"}}
	return out
}

// fieldToV4 converts one 3.0 property in place and returns its 4.0 name.
func fieldToV4(name string, f *vcard.Field) string {
	p := f.Params
	delete(p, "CHARSET")
	binary := false
	for _, e := range p["ENCODING"] {
		if strings.EqualFold(e, "b") || strings.EqualFold(e, "BASE64") {
			binary = true
		}
	}
	delete(p, "ENCODING")
	if types, ok := p[vcard.ParamType]; ok {
		var kept []string
		for _, t := range types {
			if strings.EqualFold(t, "pref") {
				p[vcard.ParamPreferred] = []string{"1"}
			}
			if !v3Only[strings.ToLower(t)] {
				kept = append(kept, t)
			}
		}
		setOrDelete(p, vcard.ParamType, kept)
	}
	switch name {
	case vcard.FieldPhoto, vcard.FieldLogo, vcard.FieldSound, vcard.FieldKey:
		if binary {
			f.Value = "data:" + binaryMediaType(name, p) + ";base64," + stripSpace(f.Value)
		}
		if vals := p[vcard.ParamValue]; len(vals) == 1 && strings.EqualFold(vals[0], "uri") {
			delete(p, vcard.ParamValue)
		}
	case vcard.FieldGeolocation:
		if lat, lon, ok := strings.Cut(f.Value, ";"); ok {
			f.Value = "geo:" + strings.TrimSpace(lat) + "," + strings.TrimSpace(lon)
		}
	case fieldAppleMember:
		return vcard.FieldMember
	case vcard.FieldBirthday, fieldAnniversary:
		if len(p[paramOmitYear]) > 0 {
			if m := isoDate.FindStringSubmatch(f.Value); m != nil {
				f.Value = "--" + m[2] + m[3]
			}
			delete(p, paramOmitYear)
		} else if m := isoDate.FindStringSubmatch(f.Value); m != nil {
			f.Value = m[1] + m[2] + m[3]
		}
		if name == fieldAnniversary {
			return vcard.FieldAnniversary
		}
	}
	return name
}

// isoDate matches a date in ISO 8601's extended form, YYYY-MM-DD.
var isoDate = regexp.MustCompile(`^(\d{4})-(\d\d)-(\d\d)$`)

// binaryMediaType turns the 3.0 TYPE of inline binary data (JPEG, PNG, PGP)
// into a media type, taking that TYPE off p.
func binaryMediaType(name string, p vcard.Params) string {
	major := map[string]string{
		vcard.FieldPhoto: "image", vcard.FieldLogo: "image", vcard.FieldSound: "audio", vcard.FieldKey: "application",
	}[name]
	types := p[vcard.ParamType]
	for i, t := range types {
		sub := strings.ToLower(strings.TrimSpace(t))
		if sub == "" || strings.ContainsAny(sub, " ;,/\"") {
			continue
		}
		switch sub {
		case "pgp":
			sub = "pgp-keys"
		case "jpg":
			sub = "jpeg"
		}
		setOrDelete(p, vcard.ParamType, slices.Delete(slices.Clone(types), i, i+1))
		return major + "/" + sub
	}
	return "application/octet-stream"
}
