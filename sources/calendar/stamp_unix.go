//go:build unix

package calendar

import (
	"io/fs"
	"strconv"
	"syscall"
)

// stampOf tells one version of a file from another: "mtime_ns;size;inode",
// as internal/dirscan does. A rewrite moves the mtime, a replacement the
// inode.
func stampOf(fi fs.FileInfo) string {
	tag := strconv.FormatInt(fi.ModTime().UnixNano(), 10) + ";" + strconv.FormatInt(fi.Size(), 10)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		tag += ";" + strconv.FormatUint(uint64(st.Ino), 10)
	}
	return tag
}
