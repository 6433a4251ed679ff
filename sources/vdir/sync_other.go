//go:build !linux

package vdir

import (
	"fmt"
	"os"
)

// syncFiles makes the content of the files durable, an fsync each (systems
// without syncfs).
func syncFiles(_ string, paths []string) error {
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("syncing temporary file: %w", unwrapPath(err))
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("syncing temporary file: %w", unwrapPath(err))
		}
	}
	return nil
}
