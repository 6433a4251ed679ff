//go:build !unix

package calendar

import (
	"io/fs"
	"strconv"
)

// stampOf tells one version of a file from another: "mtime_ns;size".
func stampOf(fi fs.FileInfo) string {
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + ";" + strconv.FormatInt(fi.Size(), 10)
}
