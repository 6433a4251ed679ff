package match

import (
	"testing"
)

func TestOCRFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"srnith", "smith"}, {"a1ice", "aliee"}, {"r0se", "rose"}, {"rnarc", "mare"},
		{"smith", "smith"}, {"vvolf", "wolf"}, {"", ""}, {"5am", "sam"}, {"emma", "emma"},
	}
	for _, tt := range tests {
		if got := ocrFold(tt.in); got != tt.want {
			t.Errorf("ocrFold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoose(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Müller", "muller"}, {"Mueller", "muller"}, {"MUELLER", "muller"},
		{"Søren", "soren"}, {"Soeren", "soren"}, {"O'Brien", "obrien"},
		{"Anne-Marie", "anne marie"}, {"J.", "j"}, {"Goethe", "gothe"}, {"Göthe", "gothe"},
		{"Aeon", "aon"}, {"Zoë", "zo"}, {"Zoe", "zo"},
	}
	for _, tt := range tests {
		if got := loose(tt.in); got != tt.want {
			t.Errorf("loose(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
