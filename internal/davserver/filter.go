package davserver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// check refuses a filter the matcher cannot answer.
func (f xFilter) check() error {
	if err := checkTest(f.Test); err != nil {
		return err
	}
	for _, pf := range f.Props {
		if pf.Name == "" {
			return errors.New("prop-filter without a name")
		}
		if err := checkTest(pf.Test); err != nil {
			return err
		}
		for _, tm := range pf.TextMatches {
			if err := tm.check(); err != nil {
				return err
			}
		}
		for _, p := range pf.Params {
			if p.TextMatch != nil {
				if err := p.TextMatch.check(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkTest(t string) error {
	if t != "" && t != "anyof" && t != "allof" {
		return fmt.Errorf("unknown test %q", t)
	}
	return nil
}

// collations are the collations text-match understands (RFC 4790); RFC
// 6352 requires the two casemaps, i;unicode-casemap being the default.
var collations = []string{"i;ascii-casemap", "i;unicode-casemap", "i;octet"}

// errCollation is a text-match with a collation the server does not know:
// the CARDDAV:supported-collation precondition (RFC 6352 section 8.6).
type errCollation struct{ name string }

func (e *errCollation) Error() string { return fmt.Sprintf("unsupported collation %q", e.name) }

func (tm xTextMatch) check() error {
	if tm.Collation != "" && !slices.Contains(collations, tm.Collation) {
		return &errCollation{name: tm.Collation}
	}
	switch tm.MatchType {
	case "", "equals", "contains", "starts-with", "ends-with":
		return nil
	}
	return fmt.Errorf("unknown match-type %q", tm.MatchType)
}

// match reports whether c passes the filter (RFC 6352 section 10.5):
// prop-filters combined by the filter's test (anyof by default), each
// matching when any of the card's properties of that name passes its
// text-matches and param-filters. Text is compared unescaped and by the
// collation: i;octet byte for byte, i;ascii-casemap without regard to the
// case of ASCII letters, i;unicode-casemap (the default) without regard to
// case.
func (f xFilter) match(c vcard.Card) bool {
	all := f.Test == "allof"
	for _, pf := range f.Props {
		if pf.match(c) != all {
			return !all
		}
	}
	return all
}

func (pf xPropFilter) match(c vcard.Card) bool {
	fields := c[strings.ToUpper(pf.Name)]
	if pf.IsNotDefined != nil {
		return len(fields) == 0
	}
	for _, fld := range fields {
		if fld != nil && pf.matchField(fld) {
			return true
		}
	}
	return false
}

func (pf xPropFilter) matchField(fld *vcard.Field) bool {
	all := pf.Test == "allof"
	var tests []bool
	value := card.Text(fld.Value)
	for _, tm := range pf.TextMatches {
		tests = append(tests, tm.match(value))
	}
	for _, p := range pf.Params {
		tests = append(tests, p.match(fld.Params))
	}
	if len(tests) == 0 {
		return true
	}
	for _, ok := range tests {
		if ok != all {
			return !all
		}
	}
	return all
}

func (p xParamFilter) match(params vcard.Params) bool {
	var values []string
	for k, vs := range params {
		if strings.EqualFold(k, p.Name) {
			values = append(values, vs...)
		}
	}
	if p.IsNotDefined != nil {
		return len(values) == 0
	}
	if p.TextMatch == nil {
		return len(values) > 0
	}
	for _, v := range values {
		if p.TextMatch.match(v) {
			return true
		}
	}
	return false
}

func (tm xTextMatch) match(value string) bool {
	text := tm.Text
	switch tm.Collation {
	case "i;octet":
	case "i;ascii-casemap":
		text, value = asciiLower(text), asciiLower(value)
	default:
		text, value = strings.ToLower(text), strings.ToLower(value)
	}
	var ok bool
	switch tm.MatchType {
	case "equals":
		ok = value == text
	case "starts-with":
		ok = strings.HasPrefix(value, text)
	case "ends-with":
		ok = strings.HasSuffix(value, text)
	default:
		ok = strings.Contains(value, text)
	}
	return ok != (tm.Negate == "yes")
}

// asciiLower lower-cases the ASCII letters of s and nothing else.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
