package daemon

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLoggerUnderJournaldHasNoTimestamp(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantTime bool
	}{
		{"terminal", nil, true},
		{"journal stream", map[string]string{"JOURNAL_STREAM": "8:1234"}, false},
		{"systemd unit", map[string]string{"INVOCATION_ID": "abc"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(&buf, new(slog.LevelVar), UnderSystemd(env(tc.env)))
			log.Info("sync done", "summary", "1 sources")
			line := buf.String()
			if got := strings.HasPrefix(line, "time="); got != tc.wantTime {
				t.Errorf("line %q: timestamp %v, want %v", line, got, tc.wantTime)
			}
			if !strings.Contains(line, `msg="sync done" summary="1 sources"`) {
				t.Errorf("line %q lost the message", line)
			}
		})
	}
}

func TestLoggerLevelFollowsTheVar(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	log := NewLogger(&buf, level, true)
	log.Debug("hidden")
	l, err := ParseLevel("debug")
	if err != nil {
		t.Fatal(err)
	}
	level.Set(l)
	log.Debug("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "shown") {
		t.Errorf("log %q: level change not followed", got)
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel accepted loud")
	}
}
