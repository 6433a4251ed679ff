// Package demo carries kith's bundled example data: two address-book
// folders' worth of contacts and a folder of card scans, with the duplicates,
// shared switchboard and household numbers, and dated note lines that show
// what kith does. `kith` run without --config syncs this data.
package demo

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"kith/internal/atomicfile"
)

//go:embed data
var data embed.FS

// Extract copies the example data into dir, writing only files that are
// missing or differ, so that a second demo run sees no change.
func Extract(dir string) error {
	return fs.WalkDir(data, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("data", filepath.FromSlash(p))
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := data.ReadFile(p)
		if err != nil {
			return err
		}
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
			return nil
		}
		return atomicfile.Write(dst, b, 0o640)
	})
}

// Config returns the TOML configuration that syncs the example data in dir
// into dir/merged, with the state and report in dir/state.
func Config(dir string) string {
	q := func(parts ...string) string {
		return fmt.Sprintf("%q", filepath.Join(append([]string{dir}, parts...)...))
	}
	return fmt.Sprintf(`state_dir = %s
default_region = "DE"

[[source]]
name = "addressbook"
kind = "vdir"
path = %s

[[source]]
name = "scans"
kind = "scans"
path = %s

[[target]]
name = "merged"
kind = "vdir"
path = %s
`, q("state"), q("addressbook"), q("scans"), q("merged"))
}
