//go:build linux

package vdir

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames oldname to newname unless newname exists
// (fs.ErrExist then).
func renameNoReplace(oldname, newname string) error {
	return unix.Renameat2(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, unix.RENAME_NOREPLACE)
}

// noHardLinks reports whether err is a hard link refused because the file
// system has none (vfat and exFAT answer EPERM, FUSE mounts ENOSYS or
// EOPNOTSUPP).
func noHardLinks(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)
}

// noReplaceUnsupported reports whether err is renameNoReplace refused
// because the file system does not offer it.
func noReplaceUnsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)
}
