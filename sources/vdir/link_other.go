//go:build !linux

package vdir

import (
	"errors"
	"io/fs"
)

// renameNoReplace is not offered here: create looks before it renames.
func renameNoReplace(oldname, newname string) error { return errors.ErrUnsupported }

// noHardLinks reports whether err is a hard link refused because the file
// system has none (EPERM, ENOTSUP).
func noHardLinks(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported)
}

// noReplaceUnsupported reports whether err is renameNoReplace refused
// because it is not offered.
func noReplaceUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }
