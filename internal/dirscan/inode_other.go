//go:build !unix

package dirscan

import "io/fs"

func inode(fs.FileInfo) string { return "" }
