package vdir

import "strings"

// isVCF reports whether a file name has the ".vcf" extension, in any case.
func isVCF(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".vcf")
}
