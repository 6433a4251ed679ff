package vdir

import "strings"

// skipName reports whether a file or folder name is hidden or a temporary
// name that editors and sync tools leave while writing (vdirsyncer's
// ".name.vcf.tmp", "name~", vim's ".swp", partial downloads).
func skipName(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".swp", ".part", ".tmp"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// isVCF reports whether a file name has the ".vcf" extension, in any case.
func isVCF(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".vcf")
}
