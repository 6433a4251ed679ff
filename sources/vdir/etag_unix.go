//go:build unix

package vdir

import (
	"io/fs"
	"strconv"
	"syscall"
)

// etagOf returns the version tag of a file: "mtime_ns;size;inode", like
// vdirsyncer's filesystem storage. Rewriting a file in place changes its
// mtime (and usually its size); replacing it by rename changes its inode.
// Renaming or linking a file keeps all three, so the tag taken from a
// temporary file before it is renamed into place is the tag of the result.
func etagOf(fi fs.FileInfo) string {
	tag := strconv.FormatInt(fi.ModTime().UnixNano(), 10) + ";" + strconv.FormatInt(fi.Size(), 10)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		tag += ";" + strconv.FormatUint(uint64(st.Ino), 10)
	}
	return tag
}
