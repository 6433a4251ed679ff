package daemon

import (
	"fmt"
	"io"
	"log/slog"
)

// UnderSystemd reports whether kith's output goes to the journal, which
// stamps every line itself: systemd sets $JOURNAL_STREAM for a service
// whose stderr is the journal and $INVOCATION_ID for every unit it starts.
func UnderSystemd(getenv func(string) string) bool {
	return getenv("JOURNAL_STREAM") != "" || getenv("INVOCATION_ID") != ""
}

// NewLogger returns kith's text logger writing to w at the level held in
// level, which the daemon changes when a reloaded config says so. With
// journald set the lines carry no timestamp: journald adds its own.
func NewLogger(w io.Writer, level *slog.LevelVar, journald bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if journald {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ParseLevel turns a config's log_level (debug, info, warn, error) into a
// slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
