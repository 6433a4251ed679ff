// Package vdir reads and writes vdirs: folders holding one vCard per ".vcf"
// file, the layout vdirsyncer's filesystem storage and khard use.
//
// Source reads a vdir (subfolders included, so a vdirsyncer storage with one
// subfolder per collection works) as a kith source. Target keeps kith's merged
// set in a flat vdir: every write goes to a temporary file in the same folder
// that is synced and renamed into place, and is conditional on the file's
// ETag, a version tag taken from the file's modification time, size and inode
// so that it changes whenever anyone (khard, an editor, vdirsyncer) rewrites
// the file.
package vdir
