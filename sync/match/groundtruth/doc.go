// Package groundtruth generates realistic contact worlds whose true identity
// is known, to measure how well records are clustered into people.
//
// Generate builds, deterministically from a seed, people with households
// (a shared landline, address and sometimes a family email), employers (a
// switchboard, an info@ address, work emails, direct lines), namesakes,
// people who changed employer, and several records for many of them: phone
// book entries, work cards, and business-card scans with OCR slips. Names
// vary the way address books vary them: nicknames (Bob for Robert),
// transliterations (Mueller for Müller), stripped diacritics (Soren for
// Søren), swapped order ("Smith, John"), initials, titles; phone numbers
// come in national and international spellings.
//
// Score compares a clustering with the truth pairwise and counts wrong
// merges by what the two people share.
package groundtruth
