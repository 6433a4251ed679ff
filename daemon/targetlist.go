package daemon

import (
	"context"

	ksync "kith/sync"
)

// cursorTarget is a target that carries what it knows of its collection
// from one process to the next (a CardDAV target's getctag, sync-token and
// listing), so that the first sync of a `kith --once` lists it at the cost
// of a getctag too. Its cursor is kept in the state's cursors table under
// targetCursorKey.
type cursorTarget interface {
	Cursor() string
	SetCursor(string)
}

// targetCursorKey is the cursors-table key of a target's cursor; it cannot
// be a source's name, since names are unique across sources and targets
// and the key adds a prefix.
func targetCursorKey(name string) string { return "target:" + name }

// restoreTargetCursors hands each target the cursor it left last time.
func restoreTargetCursors(targets []ksync.Target, cursors map[string]string) {
	for _, t := range targets {
		if ct, ok := t.(cursorTarget); ok {
			ct.SetCursor(cursors[targetCursorKey(t.Name())])
		}
	}
}

// saveTargetCursors puts each target's cursor into cursors.
func saveTargetCursors(targets []ksync.Target, cursors map[string]string) {
	for _, t := range targets {
		if ct, ok := t.(cursorTarget); ok {
			if c := ct.Cursor(); c != "" {
				cursors[targetCursorKey(t.Name())] = c
			}
		}
	}
}

// failedListing is a target whose listing failed in this sync: its List
// gives that error again rather than asking the server a second time.
type failedListing struct {
	ksync.Target
	err error
}

// List returns the error the sync's listing gave.
func (f failedListing) List(context.Context) (map[string]string, error) { return nil, f.err }
