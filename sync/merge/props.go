package merge

import (
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
	"kith/sync/normalize"
)

// class says how a property merges.
type class int

const (
	// multi properties are unioned, deduplicated by normalised value.
	multi class = iota
	// single properties keep one value.
	single
	// list properties (CATEGORIES, NICKNAME) are unioned item by item into one property.
	list
	// note is NOTE: unioned line by line into one property.
	note
	// managed properties are set by kith and never taken from a member.
	managed
)

var classes = map[string]class{
	vcard.FieldFormattedName: single, vcard.FieldName: single,
	vcard.FieldOrganization: single, vcard.FieldTitle: single, vcard.FieldRole: single,
	vcard.FieldBirthday: single, vcard.FieldAnniversary: single, vcard.FieldGender: single,
	vcard.FieldTimezone: single, vcard.FieldGeolocation: single, vcard.FieldPhoto: single,
	vcard.FieldLogo: single, vcard.FieldSound: single, vcard.FieldKind: single,
	"X-ADDRESSBOOKSERVER-KIND": single, "SORT-STRING": single, "X-PHONETIC-FIRST-NAME": single,
	"X-PHONETIC-LAST-NAME": single,
	vcard.FieldCategories:  list, vcard.FieldNickname: list,
	vcard.FieldNote: note,
	"BEGIN":         managed, "END": managed, vcard.FieldVersion: managed, vcard.FieldProductID: managed,
	vcard.FieldUID: managed, vcard.FieldRevision: managed, vcard.FieldClientPIDMap: managed,
}

// classOf returns how the property named name merges. Properties kith
// writes itself (X-KITH-*) are managed; everything else not listed is multi.
func classOf(name string) class {
	if c, ok := classes[name]; ok {
		return c
	}
	if strings.HasPrefix(name, "X-KITH-") {
		return managed
	}
	return multi
}

// labelProps are the properties that only describe another property of the
// same group (Apple's item1.X-ABLabel); they follow the property they label.
var labelProps = map[string]bool{"X-ABLABEL": true, "X-ABADR": true}

// keyer computes the comparison key of a property value.
type keyer struct{ n *normalize.Normalizer }

// key returns the value's identity for deduplication: emails lower-cased,
// phones in E.164, everything else folded text.
func (k keyer) key(name string, f *vcard.Field) string {
	switch name {
	case vcard.FieldEmail:
		if e := k.n.Email(card.Text(f.Value)); e != "" {
			return e
		}
	case vcard.FieldTelephone:
		// Two extensions of one switchboard are two values.
		if p, ext, _ := k.n.PhoneExt(card.Text(f.Value)); ext != "" {
			return p + ";ext=" + ext
		} else if p != "" {
			return p
		}
	case vcard.FieldPhoto, vcard.FieldLogo, vcard.FieldSound, vcard.FieldKey:
		return f.Value
	}
	return normalize.Fold(card.Text(f.Value))
}
