package fsname

import "testing"

func TestSkip(t *testing.T) {
	for name, want := range map[string]bool{
		"anna.vcf": false, "scan 2026-11.csv": false, "Ä.vcf": false,
		"": true, ".anna.vcf.tmp": true, ".hidden": true, "anna.vcf~": true, "anna.vcf.swp": true,
		"export.csv.part": true, "export.csv.crdownload": true, "X.TMP": true,
	} {
		if got := Skip(name); got != want {
			t.Errorf("Skip(%q) = %v, want %v", name, got, want)
		}
	}
}
