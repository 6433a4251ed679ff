package scans

import "strings"

// skipName reports whether a file or folder name is hidden or a temporary
// name that a scanner app or sync tool leaves while writing (".name.tmp",
// "name~", ".swp", partial downloads).
func skipName(name string) bool {
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
