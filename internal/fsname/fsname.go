// Package fsname holds the file-name rules shared by the folder sources and
// the folder watcher: which names are hidden or temporary and never read.
package fsname

import "strings"

// Skip reports whether a file or folder name is hidden or a temporary name
// that editors, scanner apps and sync tools leave while writing
// (vdirsyncer's ".name.vcf.tmp", "name~", vim's ".swp", partial downloads).
func Skip(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".swp", ".part", ".tmp", ".crdownload"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}
