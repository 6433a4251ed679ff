// Package match decides which records describe the same person.
//
// FromCard reduces a card to Evidence: names, emails, phones with their types,
// organisation, title and addresses. Cluster normalises the evidence (names
// NFKC, accents and case folded, ue/oe/ae folded so Müller = Mueller; emails
// lower-cased, +tags and Gmail dots dropped; phones to E.164 in the
// Normalizer's default region), and finds candidate pairs through blocking
// keys, never comparing all pairs:
//
//   - a normalised email, an E.164 phone, a folded address, an organisation;
//   - family name with given name or its nickname group (Bob = Robert);
//   - family name with initial, where full names wait as targets for records
//     that give only an initial ("J. Smith");
//   - a given name as family name with the initial of the family name, for
//     names written in swapped order without a comma;
//   - a rough sound key of the family name with the given name;
//   - OCR-folded forms (rn = m, 1 = l, 0 = o, c = e) wherever a scanned card
//     takes part.
//
// Blocks too large to compare all pairs (a common name, a switchboard) are
// sorted by name and compared within a sliding window, so the work grows
// about linearly with the number of records.
//
// Each candidate pair is scored by a Fellegi-Sunter model (compare.go,
// model.go): every field compares to a level (names: same, nickname, one
// slip apart, initial, similar, different, also in swapped order;
// birthday; email; phone; the address as one comparison; organisation;
// title), each level weighs log2(m/u) bits, u estimated from random pairs,
// m by EM over the candidates with priors as pseudo-counts, and common
// values (a switchboard, "Smith") weigh less. Pairs above mergeAt are
// joined, strongest first, unless the group would then hold two records
// with strong evidence against each other (a given name, family name or
// birthday disagreeing by vetoAt bits, Jr./Sr., two mailboxes at one
// organisation); pairs above possibleAt go to Result.Possible. Every join
// carries its arithmetic in words.
//
// User decisions (Constraint) come first: Together joins records that
// matching would keep apart, and Apart always wins, over evidence and over
// Together. Options.RuleCascade selects the former hand-set rules instead,
// kept to measure the model against them.
//
// Quality is measured on the Febrl benchmark (TestFebrl, testdata/febrl),
// on books from a second generator (package booksim, TestBooksim) and
// against generated worlds with known truth (package groundtruth): TestQuality asserts pairwise precision and recall on fixed
// seeds, and TestQualityTable keeps testdata/quality.md, the table of kith
// against the naive baselines (go test ./sync/match -run TestQualityTable -v;
// add -args -update to rewrite it). BenchmarkCluster measures 10k and 100k
// records, and 1M with -args -bench1m.
//
// The package is pure logic: no files, no network, no global state.
package match
