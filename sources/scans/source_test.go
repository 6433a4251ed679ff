package scans

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"

	ksync "kith/sync"
	"kith/sync/card"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fileTime is the modification time every test file gets, so that Seen is
// deterministic for records without a REV or a scan date.
var fileTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// copyTree copies testdata/in to a temporary folder, adds the hidden and
// temporary files a scanner app leaves, and fixes every file's mtime.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("testdata/in", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/in", path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	good := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Should Be Skipped\r\nEND:VCARD\r\n"
	for name, content := range map[string]string{
		".pending-scan.vcf":          good,
		".thumbnails/card.vcf":       good,
		"upload.vcf.part":            good,
		"phone/export.csv.tmp":       "Name,Email\nSkipped,skip@example.com\n",
		"phone/backup.vcf~":          good,
		"readme.txt":                 "not a card",
		"phone/scan-0001.jpg":        "\xff\xd8\xff",
		"phone/.sync/conflict.vcard": good,
	} {
		p := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err = filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, fileTime, fileTime)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// render writes a snapshot as text: each record's ID, Seen and card, then
// each problem.
func render(snap ksync.Snapshot) string {
	var b strings.Builder
	b.WriteString("source " + snap.Source)
	if snap.Full {
		b.WriteString(" (full)")
	}
	b.WriteString("\n")
	for _, r := range snap.Records {
		b.WriteString("\n== " + r.ID + " seen " + r.Seen.Format(time.RFC3339))
		if r.Scanned {
			b.WriteString(" scanned")
		}
		b.WriteString("\n")
		b.WriteString(strings.ReplaceAll(string(card.EncodeBytes(r.Card)), "\r\n", "\n"))
	}
	b.WriteString("\n")
	for _, p := range snap.Problems {
		b.WriteString("!! " + p.ID + ": " + p.Err.Error() + "\n")
	}
	return b.String()
}

func TestReadGolden(t *testing.T) {
	dir := copyTree(t)
	src, err := New("scans", dir, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Read(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	got := render(snap)
	golden := filepath.Join("testdata", "snapshot.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("snapshot differs from %s (run with -update to accept):\n%s", golden, diff(string(want), got))
	}

	// What a user would notice, independent of the golden file's layout.
	byID := map[string]ksync.Record{}
	for _, r := range snap.Records {
		byID[r.ID] = r
		if !r.Scanned || r.Source != "scans" || r.Hash != card.Hash(r.Card) {
			t.Errorf("%s: Scanned=%v Source=%q Hash ok=%v; want scanned records of \"scans\" with their card's hash",
				r.ID, r.Scanned, r.Source, r.Hash == card.Hash(r.Card))
		}
		if strings.Contains(r.ID, "Skipped") || r.Card.Value(vcard.FieldFormattedName) == "Should Be Skipped" {
			t.Errorf("%s: a hidden or temporary file was read", r.ID)
		}
	}
	for _, tc := range []struct {
		id, prop, want string
	}{
		{"scanner-export.vcf#1", vcard.FieldFormattedName, "Dr. Jürgen Müller"},
		{"scanner-export.vcf#1", vcard.FieldOrganization, "Café René GmbH;Einkauf"},
		{"scanner-export.vcf#2", vcard.FieldFormattedName, "Françoise Dubois"},
		{"phone/broken-among-good.vcf#1", vcard.FieldFormattedName, "Ann Good"},
		{"phone/broken-among-good.vcf#3", vcard.FieldFormattedName, "Cid Good"},
		{"phone/yamada.vcard", vcard.FieldFormattedName, "山田 太郎"},
		{"google.csv#1", vcard.FieldFormattedName, "Alice Beatrice Example"},
		{"google.csv#1", vcard.FieldNote, "Met at FOSDEM.\nSecond line; with semicolon"},
		{"google.csv#1", vcard.FieldCategories, "Friends,Work"},
		{"google.csv#1", vcard.FieldBirthday, "1985-04-12"},
		{"google.csv#2", vcard.FieldFormattedName, "Zoë Ünal"},
		{"google-old.csv#1", vcard.FieldOrganization, "Ruiz & Hijos S.L."},
		{"outlook.csv#1", vcard.FieldFormattedName, "Ms. Dana Smith"},
		{"outlook.csv#1", vcard.FieldTitle, "Account Manager"},
		{"outlook.csv#1", vcard.FieldBirthday, "1979-03-07"},
		{"camcard.csv#1", vcard.FieldFormattedName, "Jürgen Weiß"},
		{"camcard.csv#1", vcard.FieldNote, "Brötchen für das Büro – Angebot"},
		{"camcard.csv#2", vcard.FieldOrganization, "Café Öberg"},
		{"abbyy-utf16.csv#1", vcard.FieldFormattedName, "Ελένη Παπαδοπούλου"},
		{"abbyy-utf16.csv#2", vcard.FieldEmail, "li.wei@example.cn"},
	} {
		r, ok := byID[tc.id]
		if !ok {
			t.Errorf("no record %s", tc.id)
			continue
		}
		got := r.Card.Value(tc.prop)
		switch tc.prop {
		case vcard.FieldOrganization:
			got = strings.Join(card.Components(got), ";")
		case vcard.FieldCategories:
			got = strings.Join(card.List(got), ",")
		default:
			got = card.Text(got)
		}
		if got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.id, tc.prop, got, tc.want)
		}
	}
	for id, want := range map[string]time.Time{
		"scanner-export.vcf#1":          time.Date(2024, 3, 15, 10, 15, 0, 0, time.UTC), // REV
		"scanner-export.vcf#2":          fileTime,                                       // mtime
		"phone/broken-among-good.vcf#1": time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC),
		"camcard.csv#1":                 time.Date(2024, 2, 20, 14, 35, 10, 0, time.UTC), // Scan Date
		"camcard.csv#2":                 time.Date(2024, 2, 21, 9, 0, 0, 0, time.UTC),
		"abbyy-utf16.csv#1":             time.Date(2024, 1, 9, 6, 30, 0, 0, time.UTC), // Created, with zone
		"abbyy-utf16.csv#2":             fileTime,
		"google.csv#1":                  fileTime,
	} {
		if r, ok := byID[id]; !ok || !r.Seen.Equal(want) {
			t.Errorf("%s: Seen = %v, want %v", id, r.Seen, want)
		}
	}
	wantProblems := map[string]string{
		"half-written.vcf":              "incomplete (still being written?)",
		"phone/broken-among-good.vcf#2": "card 2",
		"camcard.csv#3":                 "4 fields, the header has 12",
		"camcard.csv#4":                 "no name, email or phone",
		"outlook.csv#2":                 "no name, email or phone",
	}
	if len(snap.Problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d: %v", len(snap.Problems), len(wantProblems), snap.Problems)
	}
	for _, p := range snap.Problems {
		if want, ok := wantProblems[p.ID]; !ok || !strings.Contains(p.Err.Error(), want) {
			t.Errorf("problem %s: %v; want one containing %q", p.ID, p.Err, want)
		}
	}
}

func TestNewRejectsMissingOrFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "missing"), file} {
		if _, err := New("scans", d, Limits{}, nil); err == nil || !strings.Contains(err.Error(), d) {
			t.Errorf("New(%s): error = %v, want one naming the folder", d, err)
		}
	}
}

func TestReadHonoursCancel(t *testing.T) {
	src, err := New("scans", copyTree(t), Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Read(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context: error = %v, want context.Canceled", err)
	}
}

// TestReadUTF16VCard: a vCard file in UTF-16, with a byte order mark or
// without one (the NUL bytes give it away, as in a CSV), is read, not taken
// for a file still being written.
func TestReadUTF16VCard(t *testing.T) {
	text := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Ünal\r\nEND:VCARD\r\n"
	for name, enc := range map[string]encoding.Encoding{
		"LE with BOM":    unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
		"LE without BOM": unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
		"BE without BOM": unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	} {
		t.Run(name, func(t *testing.T) {
			data, err := enc.NewEncoder().Bytes([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "card.vcf"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := New("scans", dir, Limits{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := s.Read(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Problems) > 0 || len(snap.Records) != 1 || card.Text(snap.Records[0].Card.Value(vcard.FieldFormattedName)) != "Zoë Ünal" {
				t.Fatalf("records %v, problems %v", snap.Records, snap.Problems)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", true},
		{"BEGIN:VCARD\nFN:x\nend:vcard", true},
		{"BEGIN:VCARD\nFN:x\nEND:VCARD\n\n  \n", true},
		{"BEGIN:VCARD\nFN:x\n", false},
		{"BEGIN:VCARD\nFN:x\nEND:VCA", false},
		{"", false},
		{"END:VCARD", true},
	} {
		if got := complete([]byte(tc.in)); got != tc.want {
			t.Errorf("complete(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// diff returns the first differing lines of two texts.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + wl + "\n  got: " + gl
		}
	}
	return ""
}
