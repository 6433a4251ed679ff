//go:build linux

package vdir

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the content of the files (all in dir) durable with one
// syncfs of dir's file system: one flush of the disk for any number of
// files, where an fsync each costs a flush each.
func syncFiles(dir string, _ []string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing: %w", unwrapPath(err))
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncing the file system of %s: %w", dir, err)
	}
	return nil
}
