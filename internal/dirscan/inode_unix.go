//go:build unix

package dirscan

import (
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

func inode(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return ";" + strconv.FormatUint(uint64(st.Ino), 10) + changeTime(st)
	}
	return ""
}

// openFlags opens without blocking on a FIFO or a device that a file was
// swapped for after it was looked at, and without following a symbolic
// link put in its place.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOFOLLOW
