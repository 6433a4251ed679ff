package scans

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// csvRow is what one data row of a CSV export gave.
type csvRow struct {
	// Row is the 1-based number of the data row (the header not counted).
	Row int
	// Card is the row as a vCard 3.0; nil when Err is set.
	Card vcard.Card
	// Scanned is the row's scan-date column, zero when there is none.
	Scanned time.Time
	// Err says why the row was skipped.
	Err error
}

// parseCSV reads a CSV export with a header row and turns every data row
// into a card. A row that cannot be used comes back with Err set; err is set
// only when the file as a whole is unusable (empty, no header, no column
// that names a person or a way to reach one).
//
// lim bounds the columns (the header's fields), the bytes of one row and
// the properties of the card a row makes; a header over the limit makes the
// file unusable, a row over one is skipped.
func parseCSV(data []byte, lim Limits) ([]csvRow, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	text = loneCRsToLF(text)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = detectDelimiter(text)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	// Rows are turned into cards one at a time: one record's memory serves
	// them all, so a huge row costs its size once, not once per row.
	r.ReuseRecord = true
	// The header is the first row naming a person or a way to reach one,
	// among the first few: LinkedIn's export opens with a note, some
	// scanner apps with a title line.
	var header, first []string
	var cols []column
	for i := 0; i < leadRows && header == nil; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading header: %w", err)
		}
		if lim.CSVColumns > 0 && len(rec) > lim.CSVColumns {
			return nil, &card.LimitError{Key: "csv_columns", What: "header", Unit: "columns", Got: int64(len(rec)), Max: int64(lim.CSVColumns)}
		}
		if first == nil {
			first = slices.Clone(rec)
		}
		if c := mapHeader(rec); usableHeader(c) {
			header, cols = slices.Clone(rec), c
		}
	}
	switch {
	case first == nil:
		return nil, errors.New("empty file")
	case header == nil:
		return nil, fmt.Errorf("header (%d columns: %s) has no name, email or phone column", len(first), excerpt(first))
	}

	var rows []csvRow
	end := r.InputOffset()
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		start := end
		end = r.InputOffset()
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return rows, fmt.Errorf("reading row %d: %w", n, err)
			}
			rows = append(rows, csvRow{Row: n, Err: fmt.Errorf("row %d (line %d): %w", n, pe.StartLine, pe.Err)})
			continue
		}
		if lim.CSVRowSize > 0 && end-start > lim.CSVRowSize {
			rows = append(rows, csvRow{Row: n, Err: fmt.Errorf("row %d (line %d): %w", n, line,
				&card.LimitError{Key: "csv_row_size", What: "row", Got: end - start, Max: lim.CSVRowSize})})
			continue
		}
		if blank(rec) {
			continue
		}
		if len(rec) != len(header) {
			rows = append(rows, csvRow{Row: n, Err: fmt.Errorf("row %d (line %d): %d fields, the header has %d", n, line, len(rec), len(header))})
			continue
		}
		c, scanned, err := rowCard(cols, rec)
		if err == nil && lim.Card.Properties > 0 {
			// A cell of values joined by " ::: " gives a property each.
			if got := properties(c); got > lim.Card.Properties {
				err = &card.LimitError{Key: "properties", What: "card", Unit: "properties", Got: int64(got), Max: int64(lim.Card.Properties)}
			}
		}
		if err != nil {
			rows = append(rows, csvRow{Row: n, Err: fmt.Errorf("row %d (line %d): %w", n, line, err)})
			continue
		}
		rows = append(rows, csvRow{Row: n, Card: c, Scanned: scanned})
	}
	return rows, nil
}

// properties counts the properties of c.
func properties(c vcard.Card) int {
	n := 0
	for _, fields := range c {
		n += len(fields)
	}
	return n
}

// leadRows is how many rows at the start of a CSV may be looked at for its
// header.
const leadRows = 10

// excerpt shows the first names of a header for an error message: a few,
// each short, control characters as "?". A file's content (a file of
// secrets linked or copied into the folder) must not go whole into logs.
func excerpt(header []string) string {
	const names, length = 3, 20
	var parts []string
	for i, h := range header {
		if i == names {
			parts = append(parts, "…")
			break
		}
		h = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return '?'
			}
			return r
		}, h)
		if utf8.RuneCountInString(h) > length {
			h = string([]rune(h)[:length]) + "…"
		}
		parts = append(parts, strconv.Quote(h))
	}
	return strings.Join(parts, ", ")
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// colKind is what a CSV column holds.
type colKind int

const (
	colIgnore colKind = iota
	colExtra          // unknown: kept as X-KITH-CSV-<header>
	colFull
	colPrefix
	colGiven
	colMiddle
	colFamily
	colSuffix
	colNickname
	colPhoneticGiven
	colPhoneticFamily
	colOrg
	colDept
	colTitle
	colEmail
	colEmailLabel
	colPhone
	colPhoneLabel
	colURL
	colURLLabel
	colAdrPart
	colAdrFormatted
	colAdrLabel
	colNote
	colCategories
	colBirthday
	colScanDate
)

// column describes one CSV column.
type column struct {
	kind colKind
	// group ties the numbered columns of one item together (Google's
	// "E-mail 2 - Label" and "E-mail 2 - Value") and the parts of one
	// address ("Business Street", "Business City").
	group string
	// types are the TYPE parameters a fixed column implies ("Mobile Phone").
	types []string
	// part is the ADR component index of a colAdrPart column.
	part int
	// header is the column's name as written, for X-KITH-CSV- properties.
	header string
}

// ADR components, in order.
const (
	adrPOBox = iota
	adrExtended
	adrStreet
	adrLocality
	adrRegion
	adrCode
	adrCountry
	adrParts
)

// fixedColumns maps normalised header names (lower case, letters and digits
// only) of Google, Outlook and scanner-app exports to what they hold.
var fixedColumns = map[string]column{
	"name": {kind: colFull}, "fullname": {kind: colFull}, "displayname": {kind: colFull},
	"formattedname": {kind: colFull}, "contactname": {kind: colFull}, "contact": {kind: colFull},
	"firstname": {kind: colGiven}, "givenname": {kind: colGiven}, "forename": {kind: colGiven},
	"middlename": {kind: colMiddle}, "additionalname": {kind: colMiddle},
	"lastname": {kind: colFamily}, "familyname": {kind: colFamily}, "surname": {kind: colFamily},
	"nameprefix": {kind: colPrefix}, "prefix": {kind: colPrefix}, "salutation": {kind: colPrefix},
	"namesuffix": {kind: colSuffix}, "suffix": {kind: colSuffix},
	"nickname":          {kind: colNickname},
	"phoneticfirstname": {kind: colPhoneticGiven}, "yomifirstname": {kind: colPhoneticGiven},
	"phoneticlastname": {kind: colPhoneticFamily}, "yomilastname": {kind: colPhoneticFamily},

	"company": {kind: colOrg}, "companyname": {kind: colOrg}, "organization": {kind: colOrg},
	"organisation": {kind: colOrg}, "organizationname": {kind: colOrg}, "org": {kind: colOrg},
	"department": {kind: colDept}, "organizationdepartment": {kind: colDept}, "dept": {kind: colDept},
	"jobtitle": {kind: colTitle}, "organizationtitle": {kind: colTitle}, "title": {kind: colTitle},
	"position": {kind: colTitle}, "role": {kind: colTitle},

	"email": {kind: colEmail}, "emailaddress": {kind: colEmail}, "mail": {kind: colEmail},
	"workemail": {kind: colEmail, types: []string{"WORK"}}, "businessemail": {kind: colEmail, types: []string{"WORK"}},
	"homeemail": {kind: colEmail, types: []string{"HOME"}}, "personalemail": {kind: colEmail, types: []string{"HOME"}},
	"otheremail": {kind: colEmail},

	"mobile": {kind: colPhone, types: []string{"CELL"}}, "mobilephone": {kind: colPhone, types: []string{"CELL"}},
	"cell": {kind: colPhone, types: []string{"CELL"}}, "cellphone": {kind: colPhone, types: []string{"CELL"}},
	"mobilenumber": {kind: colPhone, types: []string{"CELL"}}, "handy": {kind: colPhone, types: []string{"CELL"}},
	"phone": {kind: colPhone, types: []string{"WORK", "VOICE"}}, "telephone": {kind: colPhone, types: []string{"WORK", "VOICE"}},
	"tel": {kind: colPhone, types: []string{"WORK", "VOICE"}}, "phonenumber": {kind: colPhone, types: []string{"WORK", "VOICE"}},
	"workphone": {kind: colPhone, types: []string{"WORK", "VOICE"}}, "officephone": {kind: colPhone, types: []string{"WORK", "VOICE"}},
	"businessphone": {kind: colPhone, types: []string{"WORK", "VOICE"}}, "businessphone2": {kind: colPhone, types: []string{"WORK", "VOICE"}},
	"directline": {kind: colPhone, types: []string{"WORK", "VOICE"}}, "companymainphone": {kind: colPhone, types: []string{"WORK", "VOICE"}},
	"homephone": {kind: colPhone, types: []string{"HOME", "VOICE"}}, "homephone2": {kind: colPhone, types: []string{"HOME", "VOICE"}},
	"fax": {kind: colPhone, types: []string{"WORK", "FAX"}}, "workfax": {kind: colPhone, types: []string{"WORK", "FAX"}},
	"businessfax": {kind: colPhone, types: []string{"WORK", "FAX"}}, "faxnumber": {kind: colPhone, types: []string{"WORK", "FAX"}},
	"homefax": {kind: colPhone, types: []string{"HOME", "FAX"}}, "otherfax": {kind: colPhone, types: []string{"FAX"}},
	"pager": {kind: colPhone, types: []string{"PAGER"}}, "carphone": {kind: colPhone, types: []string{"CAR"}},
	"primaryphone": {kind: colPhone, types: []string{"PREF", "VOICE"}}, "otherphone": {kind: colPhone, types: []string{"VOICE"}},
	"isdn": {kind: colPhone, types: []string{"ISDN"}}, "assistantsphone": {kind: colPhone, types: []string{"VOICE"}},
	"callback": {kind: colPhone, types: []string{"VOICE"}}, "radiophone": {kind: colPhone, types: []string{"VOICE"}},
	"ttytddphone": {kind: colPhone, types: []string{"VOICE"}}, "telex": {kind: colPhone, types: []string{"VOICE"}},

	"address":         {kind: colAdrFormatted, group: "work", types: []string{"WORK"}},
	"workaddress":     {kind: colAdrFormatted, group: "work", types: []string{"WORK"}},
	"businessaddress": {kind: colAdrFormatted, group: "work", types: []string{"WORK"}},
	"companyaddress":  {kind: colAdrFormatted, group: "work", types: []string{"WORK"}},
	"officeaddress":   {kind: colAdrFormatted, group: "work", types: []string{"WORK"}},
	"homeaddress":     {kind: colAdrFormatted, group: "home", types: []string{"HOME"}},
	"street":          {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrStreet},
	"streetaddress":   {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrStreet},
	"city":            {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrLocality},
	"state":           {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrRegion},
	"region":          {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrRegion},
	"province":        {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrRegion},
	"zip":             {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrCode},
	"zipcode":         {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrCode},
	"postalcode":      {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrCode},
	"postcode":        {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrCode},
	"country":         {kind: colAdrPart, group: "work", types: []string{"WORK"}, part: adrCountry},

	"website": {kind: colURL}, "url": {kind: colURL}, "web": {kind: colURL}, "webpage": {kind: colURL},
	"homepage": {kind: colURL}, "webaddress": {kind: colURL}, "personalwebpage": {kind: colURL, types: []string{"HOME"}},
	"companywebsite": {kind: colURL, types: []string{"WORK"}},

	"note": {kind: colNote}, "notes": {kind: colNote}, "memo": {kind: colNote},
	"comment": {kind: colNote}, "comments": {kind: colNote}, "remark": {kind: colNote}, "remarks": {kind: colNote},

	"labels": {kind: colCategories}, "groupmembership": {kind: colCategories}, "categories": {kind: colCategories},
	"category": {kind: colCategories}, "tags": {kind: colCategories}, "group": {kind: colCategories}, "groups": {kind: colCategories},

	"birthday": {kind: colBirthday}, "bday": {kind: colBirthday}, "dateofbirth": {kind: colBirthday},

	"scandate": {kind: colScanDate}, "scantime": {kind: colScanDate}, "scandatetime": {kind: colScanDate},
	"created": {kind: colScanDate}, "createdate": {kind: colScanDate}, "creationdate": {kind: colScanDate},
	"datecreated": {kind: colScanDate}, "createdtime": {kind: colScanDate}, "createtime": {kind: colScanDate},
	"dateadded": {kind: colScanDate}, "capturedate": {kind: colScanDate},

	// Columns every row of an Outlook or Google export fills with a default
	// that says nothing about the person.
	"emaildisplayname": {kind: colIgnore}, "email2displayname": {kind: colIgnore}, "email3displayname": {kind: colIgnore},
	"emailtype": {kind: colIgnore}, "gender": {kind: colIgnore}, "priority": {kind: colIgnore},
	"sensitivity": {kind: colIgnore}, "private": {kind: colIgnore}, "initials": {kind: colIgnore},
	"fileas": {kind: colIgnore}, "photo": {kind: colIgnore}, "image": {kind: colIgnore}, "imagepath": {kind: colIgnore},
	"phoneticmiddlename": {kind: colIgnore}, "yomimiddlename": {kind: colIgnore}, "id": {kind: colIgnore},
}

// outlookAddress maps the prefixes of Outlook's address columns
// ("Business Street 2", "Home City") to their TYPE.
var outlookAddress = map[string]string{"business": "WORK", "home": "HOME", "other": ""}

// outlookAddressParts maps the rest of an Outlook address column to the ADR
// component it holds.
var outlookAddressParts = map[string]int{
	"street": adrStreet, "street2": adrStreet, "street3": adrStreet,
	"city": adrLocality, "state": adrRegion, "postalcode": adrCode,
	"countryregion": adrCountry, "country": adrCountry, "pobox": adrPOBox,
}

// googleAddressParts maps the end of Google's "Address N - Part" columns.
var googleAddressParts = map[string]int{
	"street": adrStreet, "city": adrLocality, "pobox": adrPOBox, "region": adrRegion,
	"postalcode": adrCode, "country": adrCountry, "extendedaddress": adrExtended,
}

// numbered matches Google's numbered columns ("E-mail 2 - Value") and
// Outlook's ("E-mail 2 Address"), normalised.
var numbered = regexp.MustCompile(`^(email|phone|address|website|organization)([0-9]+)([a-z]*)$`)

// normHeader reduces a header to lower-case letters and digits, so that
// "E-mail 1 - Value", "email1value" and "EMAIL 1 VALUE" are one name.
func normHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if r > 0x7f && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mapHeader says what each column of header holds.
func mapHeader(header []string) []column {
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = normHeader(h)
	}
	// Outlook has "Title" for Mr/Ms next to "Job Title"; scanner apps use
	// "Title" for the job.
	outlook := slices.Contains(norm, "jobtitle")

	cols := make([]column, len(header))
	for i, h := range norm {
		c := columnFor(h, outlook)
		c.header = strings.TrimSpace(header[i])
		cols[i] = c
	}
	return cols
}

func columnFor(h string, outlook bool) column {
	if h == "" {
		return column{kind: colIgnore}
	}
	if h == "title" && outlook {
		return column{kind: colPrefix}
	}
	if c, ok := fixedColumns[h]; ok {
		return c
	}
	if m := numbered.FindStringSubmatch(h); m != nil {
		what, n, rest := m[1], m[2], m[3]
		group := what + n
		switch what {
		case "email", "phone", "website":
			kind := map[string][2]colKind{
				"email":   {colEmail, colEmailLabel},
				"phone":   {colPhone, colPhoneLabel},
				"website": {colURL, colURLLabel},
			}[what]
			switch rest {
			case "value", "address", "":
				return column{kind: kind[0], group: group}
			case "label", "type":
				return column{kind: kind[1], group: group}
			case "displayname":
				return column{kind: colIgnore}
			}
		case "address":
			switch rest {
			case "formatted":
				return column{kind: colAdrFormatted, group: group}
			case "label", "type":
				return column{kind: colAdrLabel, group: group}
			}
			if p, ok := googleAddressParts[rest]; ok {
				return column{kind: colAdrPart, group: group, part: p}
			}
		case "organization":
			if n != "1" {
				break
			}
			switch rest {
			case "name":
				return column{kind: colOrg}
			case "title":
				return column{kind: colTitle}
			case "department":
				return column{kind: colDept}
			}
		}
	}
	for prefix, typ := range outlookAddress {
		if rest, ok := strings.CutPrefix(h, prefix); ok {
			if p, ok := outlookAddressParts[rest]; ok {
				var types []string
				if typ != "" {
					types = []string{typ}
				}
				return column{kind: colAdrPart, group: prefix, types: types, part: p}
			}
		}
	}
	return column{kind: colExtra}
}

// usableHeader reports whether any column can name a person or reach one.
func usableHeader(cols []column) bool {
	for _, c := range cols {
		switch c.kind {
		case colFull, colGiven, colFamily, colMiddle, colEmail, colPhone:
			return true
		}
	}
	return false
}

// typed is a value with its TYPE parameters.
type typed struct {
	value string
	types []string
}

// item gathers the columns of one numbered or grouped item.
type item struct {
	values []string
	label  string
	types  []string
	order  int
}

// address gathers the columns of one address.
type address struct {
	parts     [adrParts][]string
	formatted string
	label     string
	types     []string
	order     int
}

// rowCard turns one data row into a vCard 3.0 and returns its scan date.
func rowCard(cols []column, rec []string) (vcard.Card, time.Time, error) {
	var (
		full, prefix, given, middle, family, suffix, nickname string
		phonGiven, phonFamily                                 string
		org, dept, title, bday                                string
		notes, categories                                     []string
		extra                                                 [][2]string // X- name, value
		scanned                                               time.Time
		// Items keyed by group ("email2", "work"); single unnumbered
		// columns get a group of their own.
		items = map[string]*item{}
		adrs  = map[string]*address{}
	)
	itemFor := func(kind string, c column, i int) *item {
		key := kind + ":" + c.group
		if c.group == "" {
			key = kind + ":col" + strconv.Itoa(i)
		}
		it := items[key]
		if it == nil {
			it = &item{order: i}
			items[key] = it
		}
		return it
	}
	adrFor := func(c column, i int) *address {
		a := adrs[c.group]
		if a == nil {
			a = &address{order: i, types: c.types}
			adrs[c.group] = a
		}
		return a
	}
	for i, c := range cols {
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue
		}
		switch c.kind {
		case colFull:
			full = joinNonEmpty(" ", full, v)
		case colPrefix:
			prefix = v
		case colGiven:
			given = v
		case colMiddle:
			middle = v
		case colFamily:
			family = v
		case colSuffix:
			suffix = v
		case colNickname:
			nickname = v
		case colPhoneticGiven:
			phonGiven = v
		case colPhoneticFamily:
			phonFamily = v
		case colOrg:
			org = v
		case colDept:
			dept = v
		case colTitle:
			title = v
		case colEmail, colPhone, colURL:
			it := itemFor(kindName(c.kind), c, i)
			it.values = append(it.values, splitMulti(v)...)
			it.types = c.types
		case colEmailLabel, colPhoneLabel, colURLLabel:
			itemFor(kindName(c.kind), c, i).label = v
		case colAdrPart:
			a := adrFor(c, i)
			a.parts[c.part] = append(a.parts[c.part], v)
		case colAdrFormatted:
			adrFor(c, i).formatted = v
		case colAdrLabel:
			adrFor(c, i).label = v
		case colNote:
			notes = append(notes, v)
		case colCategories:
			categories = append(categories, splitCategories(v)...)
		case colBirthday:
			bday = normBirthday(v)
		case colScanDate:
			scanned = parseScanDate(v)
		case colExtra:
			if name := extraName(c.header); name != "" {
				extra = append(extra, [2]string{name, v})
			}
		}
	}

	c := vcard.Card{}
	add := func(name, value string, types []string) {
		f := &vcard.Field{Value: value}
		if len(types) > 0 {
			f.Params = vcard.Params{vcard.ParamType: types}
		}
		c.Add(name, f)
	}
	emails := collect(items, "email", emailTypes)
	phones := collect(items, "phone", phoneTypes)
	urls := collect(items, "url", urlTypes)

	named := full != "" || given != "" || family != "" || middle != ""
	if !named && len(emails) == 0 && len(phones) == 0 {
		return nil, time.Time{}, errors.New("no name, email or phone")
	}
	add(vcard.FieldVersion, "3.0", nil)
	fn := full
	if fn == "" {
		fn = joinNonEmpty(" ", prefix, given, middle, family, suffix)
	}
	if given == "" && family == "" && middle == "" && full != "" {
		var p, sfx string
		family, given, middle, p, sfx = splitFullName(full)
		if prefix == "" {
			prefix = p
		}
		if suffix == "" {
			suffix = sfx
		}
	}
	switch {
	case fn != "":
	case org != "":
		fn = org
	case len(emails) > 0:
		fn = emails[0].value
	default:
		fn = phones[0].value
	}
	add(vcard.FieldFormattedName, card.EscapeText(fn), nil)
	add(vcard.FieldName, card.JoinComponents(family, given, middle, prefix, suffix), nil)
	if nickname != "" {
		add(vcard.FieldNickname, card.JoinList([]string{nickname}), nil)
	}
	if phonGiven != "" {
		add("X-PHONETIC-FIRST-NAME", card.EscapeText(phonGiven), nil)
	}
	if phonFamily != "" {
		add("X-PHONETIC-LAST-NAME", card.EscapeText(phonFamily), nil)
	}
	if org != "" || dept != "" {
		if dept != "" {
			add(vcard.FieldOrganization, card.JoinComponents(org, dept), nil)
		} else {
			add(vcard.FieldOrganization, card.JoinComponents(org), nil)
		}
	}
	if title != "" {
		add(vcard.FieldTitle, card.EscapeText(title), nil)
	}
	for _, e := range emails {
		add(vcard.FieldEmail, card.EscapeText(e.value), append([]string{"INTERNET"}, e.types...))
	}
	for _, p := range phones {
		add(vcard.FieldTelephone, card.EscapeText(p.value), p.types)
	}
	for _, a := range sortedAddresses(adrs) {
		var parts [adrParts]string
		structured := false
		for i, p := range a.parts {
			parts[i] = strings.Join(p, "\n")
			structured = structured || parts[i] != ""
		}
		types := a.types
		if a.label != "" {
			types = labelTypes(a.label, urlTypes)
		}
		if !structured {
			if a.formatted == "" {
				continue
			}
			parts[adrStreet] = a.formatted
		}
		add(vcard.FieldAddress, card.JoinComponents(parts[:]...), types)
		if structured && a.formatted != "" {
			add("LABEL", card.EscapeText(a.formatted), types)
		}
	}
	for _, u := range urls {
		add(vcard.FieldURL, u.value, u.types)
	}
	if len(notes) > 0 {
		add(vcard.FieldNote, card.EscapeText(strings.Join(notes, "\n")), nil)
	}
	if cats := dedupe(categories); len(cats) > 0 {
		add(vcard.FieldCategories, card.JoinList(cats), nil)
	}
	if bday != "" {
		add(vcard.FieldBirthday, bday, nil)
	}
	for _, x := range extra {
		add(x[0], card.EscapeText(x[1]), nil)
	}
	return c, scanned, nil
}

func kindName(k colKind) string {
	switch k {
	case colEmail, colEmailLabel:
		return "email"
	case colPhone, colPhoneLabel:
		return "phone"
	}
	return "url"
}

// collect returns the values of the items of one kind in column order, with
// TYPE from the item's label column or else from its fixed column.
func collect(items map[string]*item, kind string, labelMap map[string][]string) []typed {
	var its []*item
	for key, it := range items {
		if strings.HasPrefix(key, kind+":") && len(it.values) > 0 {
			its = append(its, it)
		}
	}
	slices.SortFunc(its, func(a, b *item) int { return a.order - b.order })
	var out []typed
	for _, it := range its {
		types := it.types
		if it.label != "" {
			types = labelTypes(it.label, labelMap)
		}
		for i, v := range it.values {
			t := types
			if i > 0 {
				// Google's "*" marks the item's first value as the primary one.
				t = slices.DeleteFunc(slices.Clone(types), func(s string) bool { return s == "PREF" })
			}
			out = append(out, typed{value: v, types: t})
		}
	}
	return out
}

func sortedAddresses(adrs map[string]*address) []*address {
	out := make([]*address, 0, len(adrs))
	for _, a := range adrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *address) int { return a.order - b.order })
	return out
}

var (
	emailTypes = map[string][]string{"work": {"WORK"}, "home": {"HOME"}, "personal": {"HOME"}, "business": {"WORK"}}
	phoneTypes = map[string][]string{
		"mobile": {"CELL"}, "cell": {"CELL"}, "work": {"WORK", "VOICE"}, "business": {"WORK", "VOICE"},
		"home": {"HOME", "VOICE"}, "workfax": {"WORK", "FAX"}, "businessfax": {"WORK", "FAX"},
		"homefax": {"HOME", "FAX"}, "fax": {"FAX"}, "otherfax": {"FAX"}, "pager": {"PAGER"},
		"workpager": {"WORK", "PAGER"}, "main": {"VOICE"}, "other": {"VOICE"}, "workmobile": {"WORK", "CELL"},
		"iphone": {"CELL"}, "car": {"CAR"},
	}
	urlTypes = map[string][]string{"work": {"WORK"}, "home": {"HOME"}, "business": {"WORK"}}
)

// labelTypes turns an export's label ("Work", "* Mobile", "Work Fax") into
// TYPE parameters; Google's "*" marks the primary item. Unknown labels give
// no type (phones get VOICE).
func labelTypes(label string, m map[string][]string) []string {
	l := strings.TrimSpace(label)
	pref := strings.HasPrefix(l, "*")
	key := normHeader(strings.TrimPrefix(l, "*"))
	types := slices.Clone(m[key])
	if types == nil && isPhoneMap(m) {
		types = []string{"VOICE"}
	}
	if pref {
		types = append(types, "PREF")
	}
	return types
}

func isPhoneMap(m map[string][]string) bool { _, ok := m["pager"]; return ok }

// splitMulti splits Google's " ::: "-separated multiple values.
func splitMulti(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ":::") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitCategories splits a labels or categories cell: Google separates with
// " ::: ", Outlook and scanner apps with ";" or ",". Google's system groups
// ("* myContacts", "* starred") are dropped.
func splitCategories(v string) []string {
	var parts []string
	switch {
	case strings.Contains(v, ":::"):
		parts = strings.Split(v, ":::")
	case strings.Contains(v, ";"):
		parts = strings.Split(v, ";")
	default:
		parts = strings.Split(v, ",")
	}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "*") {
			continue
		}
		out = append(out, p)
	}
	return out
}

func dedupe(items []string) []string {
	var out []string
	for _, s := range items {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// splitFullName guesses N from a full name as a scanner app reads it off a
// card: "Family, Given Middle", or "Given Middle Family". Titles before the
// name (Dr., Prof., Herr) go to the prefix and degrees and generations
// after it (PhD, Jr., ", MBA") to the suffix, so that a phone shows neither
// as a given or family name; a particle before the last word starts the
// family name ("van Beethoven"). A single word (or a name in a script
// written without spaces) becomes the family name alone.
func splitFullName(full string) (family, given, middle, prefix, suffix string) {
	s := full
	var suffixes []string
	if before, after, ok := strings.Cut(s, ","); ok {
		if words := strings.Fields(after); len(words) > 0 && all(words, isNameSuffix) {
			suffixes, s = words, before
		} else {
			family, s = strings.TrimSpace(before), after
			if rest, more, ok := strings.Cut(s, ","); ok {
				suffixes, s = strings.Fields(more), rest
			}
		}
	}
	words := strings.Fields(s)
	var prefixes []string
	for len(words) > 0 && (len(words) > 1 || family != "") &&
		(isNamePrefix(words[0]) || len(prefixes) > 0 && isDoctorate(words[0])) {
		prefixes, words = append(prefixes, words[0]), words[1:]
	}
	for len(words) > 1 && isNameSuffix(words[len(words)-1]) {
		suffixes, words = append([]string{words[len(words)-1]}, suffixes...), words[:len(words)-1]
	}
	prefix, suffix = strings.Join(prefixes, " "), strings.Join(suffixes, " ")
	switch {
	case family != "":
		if len(words) > 0 {
			given, middle = words[0], strings.Join(words[1:], " ")
		}
	case len(words) == 1:
		family = words[0]
	case len(words) > 1:
		end := len(words) - 1
		for k := 1; k < end; k++ {
			if nameParticles[strings.ToLower(words[k])] {
				end = k
				break
			}
		}
		given, middle, family = words[0], strings.Join(words[1:end], " "), strings.Join(words[end:], " ")
	}
	return family, given, middle, prefix, suffix
}

// Words of a full name that are not the given or family name: titles
// before it, degrees and generations after it, particles that start a
// family name. Compared in lower case without dots; a title written with
// a hyphen (Dipl.-Ing.) is one when each part is.
var (
	namePrefixes  = wordSet("mr mrs ms miss mx dr prof professor sir dame herr frau hr dipl ing mag mme mlle monsieur madame sra srta rev")
	nameSuffixes  = wordSet("jr junior sr senior ii iii iv phd md mba msc bsc esq dds jun sen")
	doctorates    = wordSet("med dent vet jur phil rer nat habil hc oec pol techn theol")
	nameParticles = wordSet("van von de der den del della dello da di du le la ten ter zu zum zur dos das do bin ibn al el st")
)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func isNamePrefix(w string) bool { return inSet(namePrefixes, w) }

// isDoctorate reports whether w, after a title, is a doctorate's field
// abbreviated (Dr. med., Dr. rer. nat., Dr. h.c.): with its dot, so that
// a name after a title (Dr. Nat Cole) stays one.
func isDoctorate(w string) bool {
	return strings.HasSuffix(w, ".") && inSet(doctorates, w)
}
func isNameSuffix(w string) bool { return inSet(nameSuffixes, w) }

// inSet reports whether the word w, lower case and without dots, is in
// set, or, hyphenated, each of its parts is.
func inSet(set map[string]bool, w string) bool {
	parts := strings.Split(strings.ToLower(strings.ReplaceAll(w, ".", "")), "-")
	return all(parts, func(p string) bool { return set[p] })
}

func all(words []string, ok func(string) bool) bool {
	for _, w := range words {
		if !ok(w) {
			return false
		}
	}
	return true
}

// extraName turns an unknown column's header into an X- property name, or
// "" when the header has no letters or digits to make one from.
func extraName(header string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToUpper(header) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "X-KITH-CSV-" + b.String()
}

// normBirthday returns a birthday as vCard 3.0 writes it (YYYY-MM-DD, or
// --MM-DD without a year), from the forms exports use: ISO dates, Outlook's
// M/D/YYYY and European D.M.YYYY. Anything else is kept as written, so no
// information is lost; "0/0/00" (Outlook's empty date) gives "".
func normBirthday(v string) string {
	v = strings.TrimSpace(v)
	if v == "0/0/00" || v == "0/0/0000" {
		return ""
	}
	for _, layout := range []string{"2006-01-02", "20060102", "2006/1/2", "2006-1-2"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format("2006-01-02")
		}
	}
	if t, err := time.Parse("--01-02", v); err == nil {
		return t.Format("--01-02")
	}
	if t, err := time.Parse("--0102", v); err == nil {
		return t.Format("--01-02")
	}
	for _, sep := range []string{"/", "."} {
		p := strings.Split(v, sep)
		if len(p) != 3 {
			continue
		}
		a, err1 := strconv.Atoi(p[0])
		b, err2 := strconv.Atoi(p[1])
		y, err3 := strconv.Atoi(p[2])
		if err1 != nil || err2 != nil || err3 != nil || len(p[2]) != 4 {
			continue
		}
		month, day := a, b // Outlook's M/D/YYYY
		if sep == "." || a > 12 {
			month, day = b, a // D.M.YYYY, or a day first that cannot be a month
		}
		t := time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if t.Year() == y && int(t.Month()) == month && t.Day() == day {
			return t.Format("2006-01-02")
		}
	}
	return card.EscapeText(v)
}

// scanLayouts are the date-time forms scanner apps write in a scan-date
// column. Times without a zone are taken as UTC.
var scanLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006-01-02",
	"2006/01/02",
	"01/02/2006 15:04:05",
	"01/02/2006 15:04",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04 PM",
	"01/02/2006",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	"20060102T150405Z",
	"20060102",
}

// parseScanDate parses a scan-date cell; the zero time when it is not a
// date it knows.
func parseScanDate(v string) time.Time {
	for _, layout := range scanLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return card.ParseRev(v)
}
