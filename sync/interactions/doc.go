// Package interactions finds real interactions written by the user as dated
// lines in a card's NOTE, such as "2026-11-20 coffee, talked about hiring".
//
// A line is a log line only when it starts with a date (after an optional
// bullet "-", "*", "•" or "+"); a date in the middle of a line is ignored, as is
// a date whose year has no century ("20.11.26") or that does not exist
// ("31.02.2026"). Dates on or before today are interactions; later dates are
// plans. The kind of interaction is guessed from a small table of keywords
// (see KindOf), meeting when none matches.
//
// # Line identity
//
// Each interaction's Ref is "<date>#<n>": the ISO date of the line and its
// ordinal (1, 2, …) among the lines of the same note with the same date, in
// the order they appear. The Ref therefore survives edits of the text around
// the line, reordering of lines with different dates, and rewording of the
// line after its date; it changes only when a line with the same date is
// added or removed before it, which at most shifts which of that day's lines
// carries which number. Refs are unique within one note only: callers key
// them by contact as well, and should join a card's NOTE values with "\n"
// before parsing so that ordinals are counted over all of them.
package interactions
