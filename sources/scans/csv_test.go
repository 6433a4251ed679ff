package scans

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"kith/sync/card"
)

// fields renders the properties of a parsed row that a user would look at,
// unescaped, one "NAME[;TYPE=..]=value" a line, in encoded order.
func fields(t *testing.T, r csvRow) string {
	t.Helper()
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(card.EncodeBytes(r.Card))), "\r\n") {
		if strings.HasPrefix(l, "BEGIN:") || strings.HasPrefix(l, "END:") || strings.HasPrefix(l, "VERSION:") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestParseCSV(t *testing.T) {
	utf16le := func(s string) []byte {
		b, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	utf16beNoBOM := func(s string) []byte {
		b, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	cp1252 := func(s string) []byte {
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			panic(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want []string // one rendering a row
	}{
		{
			name: "scanner columns, headers in any case and spacing",
			in:   []byte("FULL NAME,e-mail, Mobile ,job title\nAda Lovelace,ada@example.org,+44 20 7946 0000,Analyst\n"),
			want: []string{"EMAIL;TYPE=INTERNET:ada@example.org\nFN:Ada Lovelace\nN:Lovelace;Ada;;;\nTEL;TYPE=CELL:+44 20 7946 0000\nTITLE:Analyst"},
		},
		{
			name: "semicolon delimiter and BOM",
			in:   append([]byte("\xef\xbb\xbf"), "Name;Email;Company\nBo Berg;bo@example.se;Berg, Berg & Co\n"...),
			want: []string{"EMAIL;TYPE=INTERNET:bo@example.se\nFN:Bo Berg\nN:Berg;Bo;;;\nORG:Berg\\, Berg & Co"},
		},
		{
			name: "tab delimiter",
			in:   []byte("Name\tPhone\tNote\nCy Tab\t+1 555 0111\ta, b; c\n"),
			want: []string{"FN:Cy Tab\nN:Tab;Cy;;;\nNOTE:a\\, b\\; c\nTEL;TYPE=WORK,VOICE:+1 555 0111"},
		},
		{
			name: "windows-1252 fallback",
			in:   cp1252("Name,Company\nRené Müller,Café €uro\n"),
			want: []string{"FN:René Müller\nN:Müller;René;;;\nORG:Café €uro"},
		},
		{
			name: "UTF-16 LE with BOM",
			in:   utf16le("Name,Email\r\nΣοφία,sofia@example.gr\r\n"),
			want: []string{"EMAIL;TYPE=INTERNET:sofia@example.gr\nFN:Σοφία\nN:Σοφία;;;;"},
		},
		{
			name: "UTF-16 BE without BOM",
			in:   utf16beNoBOM("Name,Email\r\nDe Be,de@example.org\r\n"),
			want: []string{"EMAIL;TYPE=INTERNET:de@example.org\nFN:De Be\nN:Be;De;;;"},
		},
		{
			// Excel for Mac's "CSV (Macintosh)" and classic Mac tools end
			// lines with a lone CR, which encoding/csv does not split at.
			name: "lone CR line ends",
			in:   []byte("Name,Email,Notes\rAda Lovelace,ada@example.org,\"one\rtwo\"\rBo Berg,bo@example.se,\r"),
			want: []string{
				"EMAIL;TYPE=INTERNET:ada@example.org\nFN:Ada Lovelace\nN:Lovelace;Ada;;;\nNOTE:one\\ntwo",
				"EMAIL;TYPE=INTERNET:bo@example.se\nFN:Bo Berg\nN:Berg;Bo;;;",
			},
		},
		{
			// Its text is Mac Roman: ü is 0x9F, é 0x8E (Ÿ and Ž in
			// windows-1252).
			name: "Excel for Mac: Mac Roman with CR line ends",
			in:   []byte("Name,Company\rJ\x9frgen M\x9fller,Caf\x8e \x86berg\r"),
			want: []string{"FN:Jürgen Müller\nN:Müller;Jürgen;;;\nORG:Café Überg"},
		},
		{
			// LinkedIn's Connections.csv opens with a note before its
			// header; some scanner apps open with a title line.
			name: "lines before the header",
			in: []byte("Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\n\n" +
				"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n" +
				"Ada,Lovelace,https://www.linkedin.com/in/ada,ada@example.org,Analytical Engines,Analyst,01 Jan 2024\n"),
			want: []string{"EMAIL;TYPE=INTERNET:ada@example.org\nFN:Ada Lovelace\nN:Lovelace;Ada;;;\nORG:Analytical Engines\nTITLE:Analyst\nURL:https://www.linkedin.com/in/ada\nX-KITH-CSV-CONNECTED-ON:01 Jan 2024"},
		},
		{
			name: "a title line before a semicolon header",
			in:   []byte("CamCard export 2024-02-20\nName;Email;Company\nBo Berg;bo@example.se;Berg AB\n"),
			want: []string{"EMAIL;TYPE=INTERNET:bo@example.se\nFN:Bo Berg\nN:Berg;Bo;;;\nORG:Berg AB"},
		},
		{
			name: "Outlook Title is a prefix next to Job Title",
			in:   []byte("Title,First Name,Last Name,Job Title,E-mail Address\nDr.,Eve,Ng,Surgeon,eve@example.org\n"),
			want: []string{"EMAIL;TYPE=INTERNET:eve@example.org\nFN:Dr. Eve Ng\nN:Ng;Eve;;Dr.;\nTITLE:Surgeon"},
		},
		{
			name: "full name given as Family, Given",
			in:   []byte("Name,Email\n\"Doe, Jane Q.\",jane@example.org\n"),
			want: []string{"EMAIL;TYPE=INTERNET:jane@example.org\nFN:Doe\\, Jane Q.\nN:Doe;Jane;Q.;;"},
		},
		{
			name: "Google labels and multiple values",
			in:   []byte("Given Name,Phone 1 - Type,Phone 1 - Value,E-mail 1 - Label,E-mail 1 - Value\nFay,* Home,+1 555 0121 ::: +1 555 0122,Custom,fay@example.org\n"),
			want: []string{"EMAIL;TYPE=INTERNET:fay@example.org\nFN:Fay\nN:;Fay;;;\nTEL;TYPE=HOME,VOICE,PREF:+1 555 0121\nTEL;TYPE=HOME,VOICE:+1 555 0122"},
		},
		{
			name: "email only: FN falls back to the address",
			in:   []byte("Email,Company\ngus@example.org,\n"),
			want: []string{"EMAIL;TYPE=INTERNET:gus@example.org\nFN:gus@example.org\nN:;;;;"},
		},
		{
			name: "company with a phone: FN is the company",
			in:   []byte("Company,Phone\nAcme,+1 555 0131\n"),
			want: []string{"FN:Acme\nN:;;;;\nORG:Acme\nTEL;TYPE=WORK,VOICE:+1 555 0131"},
		},
		{
			name: "quoted newline in a note, blank rows skipped",
			in:   []byte("Name,Notes\n\"Hal\",\"one\ntwo\"\n,\n\nIvy,\n"),
			want: []string{"FN:Hal\nN:Hal;;;;\nNOTE:one\\ntwo", "FN:Ivy\nN:Ivy;;;;"},
		},
		{
			name: "wrong field count and nothing usable",
			in:   []byte("Name,Email,Company\nJo,jo@example.org\n,,Only Co\nKim,kim@example.org,K\n"),
			want: []string{
				"error: row 1 (line 2): 2 fields, the header has 3",
				"error: row 2 (line 3): no name, email or phone",
				"EMAIL;TYPE=INTERNET:kim@example.org\nFN:Kim\nN:Kim;;;;\nORG:K",
			},
		},
		{
			name: "unknown columns kept, noise dropped",
			in:   []byte("Name,Email,Favourite Colour,Sensitivity,会社\nLu,lu@example.org,teal,Normal,x\n"),
			want: []string{"EMAIL;TYPE=INTERNET:lu@example.org\nFN:Lu\nN:Lu;;;;\nX-KITH-CSV-FAVOURITE-COLOUR:teal"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseCSV(tc.in, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.want) {
				t.Fatalf("got %d rows, want %d: %+v", len(rows), len(tc.want), rows)
			}
			for i, r := range rows {
				if got := fields(t, r); got != tc.want[i] {
					t.Errorf("row %d:\n got: %s\nwant: %s", r.Row, got, tc.want[i])
				}
			}
		})
	}
}

// TestSplitFullName: a scanner app's one name column, as read off a card,
// holds titles and degrees too; they go to N's prefix and suffix, not to
// the given or family name a phone shows and sorts by.
func TestSplitFullName(t *testing.T) {
	for full, want := range map[string]string{
		"Ada Lovelace":           "Lovelace;Ada;;;",
		"Hal":                    "Hal;;;;",
		"Doe, Jane Q.":           "Doe;Jane;Q.;;",
		"Dr. Anna Schmidt":       "Schmidt;Anna;;Dr.;",
		"Prof. Dr. Hans Müller":  "Müller;Hans;;Prof. Dr.;",
		"Dipl.-Ing. Karl Weber":  "Weber;Karl;;Dipl.-Ing.;",
		"Mr. John Smith Jr.":     "Smith;John;;Mr.;Jr.",
		"Anna Schmidt PhD":       "Schmidt;Anna;;;PhD",
		"Anna Schmidt, MBA":      "Schmidt;Anna;;;MBA",
		"John Smith Jr., PhD":    "Smith;John;;;Jr. PhD",
		"Smith, Dr. John":        "Smith;John;;Dr.;",
		"Ludwig van Beethoven":   "van Beethoven;Ludwig;;;",
		"Anna Maria von der Au":  "von der Au;Anna;Maria;;",
		"Dr. Who":                "Who;;;Dr.;",
		"Dr.":                    "Dr.;;;;",
		"Van Morrison":           "Morrison;Van;;;",
		"Jean-Luc Picard":        "Picard;Jean-Luc;;;",
		"Frau Erika Mustermann":  "Mustermann;Erika;;Frau;",
		"Dr. med. Karl Weber":    "Weber;Karl;;Dr. med.;",
		"Dr. rer. nat. Ute Berg": "Berg;Ute;;Dr. rer. nat.;",
		"Dr. Nat Cole":           "Cole;Nat;;Dr.;",
		"María José García Díaz": "Díaz;María;José García;;",
	} {
		family, given, middle, prefix, suffix := splitFullName(full)
		if got := card.JoinComponents(family, given, middle, prefix, suffix); got != want {
			t.Errorf("splitFullName(%q) = N:%s, want N:%s", full, got, want)
		}
	}
}

func TestParseCSVRejectsFile(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"no contact col": "Colour,Size\nred,XL\n",
	} {
		if _, err := parseCSV([]byte(in), Limits{}); err == nil {
			t.Errorf("%s: parseCSV succeeded, want an error", name)
		}
	}
}

func TestNormBirthday(t *testing.T) {
	for in, want := range map[string]string{
		"1985-04-12": "1985-04-12",
		"19850412":   "1985-04-12",
		"--07-14":    "--07-14",
		"--0714":     "--07-14",
		"3/7/1979":   "1979-03-07",
		"25/12/1990": "1990-12-25",
		"24.12.1980": "1980-12-24",
		"0/0/00":     "",
		"2/30/1990":  "2/30/1990",
		"spring":     "spring",
		"a,b":        `a\,b`,
	} {
		if got := normBirthday(in); got != want {
			t.Errorf("normBirthday(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseScanDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-02-20 14:35:10":       time.Date(2024, 2, 20, 14, 35, 10, 0, time.UTC),
		"2024/02/21 09:00":          time.Date(2024, 2, 21, 9, 0, 0, 0, time.UTC),
		"2024-01-09T08:30:00+02:00": time.Date(2024, 1, 9, 6, 30, 0, 0, time.UTC),
		"20.02.2024 14:35":          time.Date(2024, 2, 20, 14, 35, 0, 0, time.UTC),
		"2/20/2024 2:35 PM":         time.Date(2024, 2, 20, 14, 35, 0, 0, time.UTC),
		"20240220T143510Z":          time.Date(2024, 2, 20, 14, 35, 10, 0, time.UTC),
		"last week":                 {},
	} {
		if got := parseScanDate(in); !got.Equal(want) {
			t.Errorf("parseScanDate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n1;2;3;4;5":        ',',
		"a;b;c":                   ';',
		"a\tb\tc":                 '\t',
		`"x;y;z",b` + "\n":        ',',
		"single":                  ',',
		`"Last; First";Email;Tel`: ';',
	} {
		if got := detectDelimiter(in); got != want {
			t.Errorf("detectDelimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCSV checks that no input makes the CSV mapping panic, and that every
// card it makes is a vCard 3.0 with an FN that survives encoding and decoding.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("Name,Email,Phone\nAda,ada@example.org,+1 555\n"))
	f.Add([]byte("First Name;Last Name;Notes\nA;B;\"x\ny\"\n"))
	f.Add([]byte("\xff\xfeN\x00a\x00m\x00e\x00\n\x00X\x00\n\x00"))
	f.Add([]byte("E-mail 1 - Label,E-mail 1 - Value,Labels\n* Work,a@b ::: c@d,* myContacts ::: x\n"))
	f.Add([]byte("Name,Address 1 - Street,Address 1 - City,Address 1 - Formatted\nZ,\\;\\,,\"a\r\nb\",\\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _ := parseCSV(data, Limits{})
		for _, r := range rows {
			if r.Err != nil {
				continue
			}
			if r.Card.Value("VERSION") != "3.0" || r.Card.Value("FN") == "" {
				t.Fatalf("row %d: card without VERSION 3.0 or FN: %v", r.Row, r.Card)
			}
			enc := card.EncodeBytes(r.Card)
			back, err := card.Decode(enc)
			if err != nil {
				t.Fatalf("row %d: the card does not decode again: %v\n%s", r.Row, err, enc)
			}
			if back.Value("FN") != r.Card.Value("FN") {
				t.Fatalf("row %d: FN %q came back as %q", r.Row, r.Card.Value("FN"), back.Value("FN"))
			}
			if !bytes.Equal(card.EncodeBytes(back), enc) {
				t.Fatalf("row %d: encoding is not stable:\n%s\n%s", r.Row, enc, card.EncodeBytes(back))
			}
		}
	})
}
