//go:build !unix

package dirscan

import (
	"io/fs"
	"os"
)

func inode(fs.FileInfo) string { return "" }

const openFlags = os.O_RDONLY
