package dirscan

import (
	"strconv"
	"syscall"
)

// changeTime is part of a file's stamp: a chmod that makes an unreadable
// file readable changes no content, yet must get the file read again.
func changeTime(st *syscall.Stat_t) string {
	return ";" + strconv.FormatInt(st.Ctim.Sec, 10) + "." + strconv.FormatInt(st.Ctim.Nsec, 10)
}
