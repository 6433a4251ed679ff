package scans

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"kith/sync/card"
)

// limits are small limits for the tests below.
var limits = Limits{File: 1 << 20, Card: card.Limits{Size: 64 << 10, Properties: 50}, CSVColumns: 100, CSVRowSize: 4 << 10}

func TestCSVLimits(t *testing.T) {
	wide := "Name," + strings.Repeat("x,", 200) + "Email\nAda," + strings.Repeat(",", 200) + "ada@example.org\n"
	longRow := "Name,Email,Note\nAda,ada@example.org," + strings.Repeat("n", 8<<10) + "\nBob,bob@example.org,short\n"
	// Google's " ::: " makes one cell many values: 400 emails in a row
	// under the row size, each a property of the card.
	manyValues := "Name,E-mail 1 - Value\nAda," + strings.TrimSuffix(strings.Repeat("a@b.c:::", 400), ":::") + "\nBob,bob@example.org\n"
	for _, tc := range []struct {
		name, in string
		fileKey  string   // the file's LimitError key, "" for none
		rowKeys  []string // per row: the LimitError key or ""
	}{
		{"wide header", wide, "csv_columns", nil},
		{"long row skipped, next row read", longRow, "", []string{"csv_row_size", ""}},
		{"row with more properties than a card may have", manyValues, "", []string{"properties", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseCSV([]byte(tc.in), limits)
			var le *card.LimitError
			if tc.fileKey != "" {
				if !errors.As(err, &le) || le.Key != tc.fileKey || !strings.Contains(err.Error(), "[limits] "+tc.fileKey) {
					t.Fatalf("error %v, want the %s limit", err, tc.fileKey)
				}
				return
			}
			if err != nil || len(rows) != len(tc.rowKeys) {
				t.Fatalf("rows %+v, err %v", rows, err)
			}
			for i, key := range tc.rowKeys {
				switch {
				case key == "" && rows[i].Err != nil:
					t.Errorf("row %d: %v", i+1, rows[i].Err)
				case key != "" && (!errors.As(rows[i].Err, &le) || le.Key != key):
					t.Errorf("row %d: error %v, want the %s limit", i+1, rows[i].Err, key)
				}
			}
		})
	}
}

// A million columns in 6 MB: refused at the header, without GBs of memory.
func TestCSVMillionColumns(t *testing.T) {
	in := []byte("Name,Email," + strings.Repeat("x,", 1_000_000) + "\n" + strings.Repeat("a,", 1_000_000) + "\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := parseCSV(in, Limits{CSVColumns: 1000})
	runtime.ReadMemStats(&after)
	var le *card.LimitError
	if !errors.As(err, &le) || le.Key != "csv_columns" {
		t.Fatalf("error %v, want the csv_columns limit", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 200<<20 {
		t.Errorf("allocated %s for a refused 6 MB file", card.FormatSize(int64(got)))
	}
}

// An unusable header is named by a short, sanitised excerpt, never whole:
// the file may be a secret that got into the folder.
func TestCSVHeaderErrorQuotesLittle(t *testing.T) {
	in := "SECRET_A=hunter2hunter2hunter2hunter2,\x1b[31mB=swordfish,C=opensesame,D=letmein,E=trustno1\nx,y,z,w,v\n"
	_, err := parseCSV([]byte(in), limits)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, secret := range []string{"hunter2hunter2hunter2", "letmein", "trustno1", "\x1b"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q quotes %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "5 columns") {
		t.Errorf("error %q does not say how many columns", msg)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Hostile files in a scan folder: a FIFO, links out of the folder (to the
// process environment, to a secret), a card over the limits. Each is a
// problem that quotes nothing of what it points to; the good cards are
// read; a second read reports nothing again.
func TestHostileFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scans")
	secret := filepath.Join(root, "secret.csv")
	writeFile(t, secret, "Name,Email\nhunter2,hunter2@example.org\n")
	writeFile(t, filepath.Join(dir, "ada.vcf"), "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEND:VCARD\r\n")
	writeFile(t, filepath.Join(dir, "inside/bob.csv"), "Name,Email\nBob,bob@example.org\n")
	writeFile(t, filepath.Join(dir, "wide.vcf"), "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:W\r\n"+strings.Repeat("EMAIL:w@example.org\r\n", 60)+"END:VCARD\r\n")
	writeFile(t, filepath.Join(dir, "huge.csv"), "Name\n"+strings.Repeat("x\n", 600<<10))
	for link, target := range map[string]string{
		"env.csv":    "/proc/self/environ",
		"secret.csv": secret,
		"up.vcf":     "../secret.csv",
		"bob.csv":    "inside/bob.csv", // inside: followed
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.vcf"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := New("scans", dir, limits, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := src.Read(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range snap.Records {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[ada.vcf bob.csv#1 inside/bob.csv#1]" {
		t.Errorf("records %v, want ada, bob through its link, bob", ids)
	}
	want := map[string]string{
		"env.csv":    "outside the folder",
		"secret.csv": "outside the folder",
		"up.vcf":     "outside the folder",
		"pipe.vcf":   "named pipe",
		"wide.vcf":   "[limits] properties",
		"huge.csv":   "[limits] file_size",
	}
	for _, p := range snap.Problems {
		msg := p.Err.Error()
		if w, ok := want[p.ID]; !ok || !strings.Contains(msg, w) {
			t.Errorf("problem %s: %q, want one saying %q", p.ID, msg, w)
		}
		delete(want, p.ID)
		for _, leak := range []string{"hunter2", "PATH=", "HOME="} {
			if strings.Contains(msg, leak) {
				t.Errorf("problem %s quotes content: %q", p.ID, msg)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no problem for %v", want)
	}
	again, err := src.Read(ctx, snap.Cursor)
	if err != nil || !again.Empty() {
		t.Errorf("second read: %d records, %d problems %v, %d deleted, err %v; want nothing new", len(again.Records), len(again.Problems), again.Problems, len(again.Deleted), err)
	}
}

// FuzzCSVLimits checks the CSV limits: a file whose header is over
// CSVColumns is refused whole, and no row over CSVRowSize becomes a card.
func FuzzCSVLimits(f *testing.F) {
	f.Add([]byte("Name,Email,Phone\nAda,ada@example.org,+1 555\n"))
	f.Add([]byte("Name,a,b,c,d,e,f\nx\n"))
	f.Add([]byte("Name,Note\nAda,\"" + strings.Repeat("n", 100) + "\"\nBob,b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{CSVColumns: 5, CSVRowSize: 64}
		rows, err := parseCSV(data, lim)
		var le *card.LimitError
		if errors.As(err, &le) {
			if rows != nil || le.Key != "csv_columns" {
				t.Fatalf("rows %v with a file limit error %v", rows, err)
			}
			return
		}
		for _, r := range rows {
			if r.Err != nil {
				continue
			}
			for _, fields := range r.Card {
				for _, f := range fields {
					if int64(len(f.Value)) > lim.CSVRowSize*2 {
						t.Fatalf("row %d: value of %d bytes from a row under %d", r.Row, len(f.Value), lim.CSVRowSize)
					}
				}
			}
		}
	})
}
