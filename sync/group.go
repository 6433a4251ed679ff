package sync

import (
	"strings"

	"github.com/emersion/go-vcard"
)

// Group cards name other cards instead of a person: Apple's
// (X-ADDRESSBOOKSERVER-KIND:group with X-ADDRESSBOOKSERVER-MEMBER) and
// vCard 4.0's (KIND:group with MEMBER). kith never merges them as people:
// a group card on a target is left as the user's client wrote it, except
// that a member whose card merged into another card is pointed at the card
// that stayed.

const (
	fieldAppleKind   = "X-ADDRESSBOOKSERVER-KIND"
	fieldAppleMember = "X-ADDRESSBOOKSERVER-MEMBER"
)

// IsGroup reports whether c is a group card rather than a person's.
func IsGroup(c vcard.Card) bool {
	for _, name := range []string{vcard.FieldKind, fieldAppleKind} {
		for _, f := range c[name] {
			if strings.EqualFold(strings.TrimSpace(f.Value), "group") {
				return true
			}
		}
	}
	return false
}

// memberUID returns the UID a member reference names: "urn:uuid:UID"
// (any case), or the value itself.
func memberUID(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 9 && strings.EqualFold(v[:9], "urn:uuid:") {
		return v[9:]
	}
	return v
}

// renameMembers returns a copy of the group card g whose member references
// to a UID in renamed (old → new) name the new UID, and whether any did.
func renameMembers(g vcard.Card, renamed map[string]string) (vcard.Card, bool) {
	changed := false
	out := make(vcard.Card, len(g))
	for name, fs := range g {
		isMember := name == vcard.FieldMember || name == fieldAppleMember
		seen := map[string]bool{}
		cp := make([]*vcard.Field, 0, len(fs))
		for _, f := range fs {
			nf := *f
			if isMember {
				if to, ok := renamed[memberUID(f.Value)]; ok {
					prefix := "urn:uuid:"
					if memberUID(f.Value) == strings.TrimSpace(f.Value) {
						prefix = ""
					}
					nf.Value = prefix + to
					changed = true
				}
				// Two members that merged into one card are one member.
				if seen[memberUID(nf.Value)] {
					continue
				}
				seen[memberUID(nf.Value)] = true
			}
			cp = append(cp, &nf)
		}
		out[name] = cp
	}
	return out, changed
}
