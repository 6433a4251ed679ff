//go:build !unix

package vdir

import (
	"io/fs"
	"strconv"
)

// etagOf returns the version tag of a file: "mtime_ns;size". Systems without
// inode numbers rely on the mtime alone to tell a rewrite.
func etagOf(fi fs.FileInfo) string {
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + ";" + strconv.FormatInt(fi.Size(), 10)
}
