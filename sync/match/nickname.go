package match

import (
	"slices"
	"strings"
	gosync "sync"
)

// nicknameTable lists groups of given names that the same person goes by:
// the formal name first, then its short forms and spellings, in English,
// German, French and Spanish. A name may sit in several groups (Bert is
// Albert, Robert and Herbert). Translations (John, Johann, Jean, Juan) are
// deliberately not equated: a person keeps one form of their name across
// address books far more often than two different people with translated
// names share an identifier.
const nicknameTable = `
abigail abby abbie gail
albert al bert bertie berti
alexander alex alec alexandre sandy xander alejandro sasha sascha alexandr
alexandra alex alexa sandra sandy lexi sasha sascha alejandra
alfred al alf alfie fred freddy fredo
andrew andy drew
andreas andi andy res
anne ann anna annie nancy nan anja anneke annette nanette
antonio tony toni anton toño
anthony tony ant
arthur art artie
barbara barb barbie babs bärbel
benjamin ben benny benji
bernhard bernd berni bernard bernie bernardo
beatrice bea trixie beatrix beate
catherine cathy cat kate katie kathy kitty katherine kathryn katharine cathérine catharina
katharina kathrin käthe katja kathi katrin trina
charles charlie chuck chas charly
carlos carlitos
christina chris christine tina kristina kristin christa chrissy
christopher chris kit topher christoph christophe cristóbal
cynthia cindy
daniel dan danny dani
david dave davy davey
deborah debbie deb debra
dominic dom nick dominik dominique
donald don donnie
dorothy dot dotty dottie dorothea doro thea
douglas doug
edward ed eddie ted teddy ned eduard édouard eduardo lalo
elizabeth liz lizzie beth betty bess bessie eliza elisabeth lisa liese liesel lise lisette ilse elsa elsie babette isabel
eleanor ellie nell nora lenore ella
emily em emmy emilie
emma emmy
eugene gene eugen eugène
francis frank frankie fran
francisco paco pancho curro fran quico
frances fran fanny frankie
françoise françois fanny
franziska franzi fränzi
frederick fred freddie fritz frederik friedrich fiete
gabriel gabe gabi gabriele gabrielle gaby
geoffrey geoff jeff jeffrey
gerald gerry jerry gerhard gerd gérard
gregory greg gregor
guillermo memo guille
heinrich heinz hein heiner
henry hank harry hal
enrique quique kike
herbert herb bert
ignacio nacho
isabella isabel izzy bella isa belle isabelle
jacob jake jakob kobi
james jim jimmy jamie jimbo
jennifer jen jenny jenn
jessica jess jessie
johannes hannes hans jo johann
john johnny jack jon
jonathan jon jonny nathan
joseph joe joey jo josef sepp seppi
josé pepe chepe
josephine jo josie fifi
joshua josh
judith judy jutta
katherine kathy kate katie kat
kenneth ken kenny
lawrence larry laurence laurie
leonard leo len lenny leonhard
louis lou lewis
ludwig lutz
luis lucho
margaret maggie meg peggy marge margie greta grete gretchen margarete margarethe marguerite margot rita
maria marie mary mia mimi maría mariele
matthew matt matty mattie
matthias mathias matze hias
michael mike mikey mick micha michi michel mickey
nicholas nick nicky nico nicolas nikolaus klaus claus niklas nicolás
patricia pat patty tricia trish patsy
patrick pat paddy patrice
peter pete pit
philip phil pip philipp philippe felipe
rebecca becky becca
richard rick ricky dick rich richie
robert bob bobby rob robbie bert robin roberto beto
ronald ron ronnie
rosario charo
samuel sam sammy
samantha sam sammy
sebastian basti sebastien bastian
stephen steve stevie steven stephan stefan
susan sue susie suzanne susanne susi suzy susana
theodore ted teddy theo
thomas tom tommy thom thomas tomás
timothy tim timmy
dolores lola
concepción concha conchita
guadalupe lupe
jesús chucho chuy
manuel manolo manu
victoria vicky tori
vincent vince vinnie
william bill billy will willy liam wilhelm willi
wolfgang wolf wolfi
zachary zach zack
`

// nickIndex maps a loose-folded given name to the groups it belongs to.
type nickIndex struct {
	byName    map[string][]int32
	groups    [][]string
	groupsOCR [][]string         // groups, each name OCR-folded
	initials  []uint32           // per group, a bit for each first letter a-z
	byOCR     map[string][]int32 // like byName, keyed by the OCR-folded name
}

// nicknames returns the parsed nicknameTable. It is built once, on first
// use (not at start: 1.6 ms every kith process, a no-change sync included,
// would pay), and never written afterwards.
var nicknames = gosync.OnceValue(func() *nickIndex {
	idx := parseNicknames(nicknameTable)
	return &idx
})

func parseNicknames(table string) nickIndex {
	idx := nickIndex{byName: map[string][]int32{}, byOCR: map[string][]int32{}}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		g := int32(len(idx.groups))
		var members []string
		for _, name := range strings.Fields(line) {
			n := looseToken(name)
			if n == "" || contains(members, n) {
				continue
			}
			members = append(members, n)
			idx.byName[n] = append(idx.byName[n], g)
		}
		idx.groups = append(idx.groups, members)
		var ocr []string
		var ini uint32
		for _, n := range members {
			o := ocrForm(n)
			ocr = append(ocr, o)
			if !slices.Contains(idx.byOCR[o], g) {
				idx.byOCR[o] = append(idx.byOCR[o], g)
			}
			if n[0] >= 'a' && n[0] <= 'z' {
				ini |= 1 << (n[0] - 'a')
			}
		}
		idx.groupsOCR = append(idx.groupsOCR, ocr)
		idx.initials = append(idx.initials, ini)
	}
	return idx
}

// sameNickOCR reports whether a name of one of groups, OCR-folded, is o: a
// scanned "T0mmy" against "Thomas".
func (idx *nickIndex) sameNickOCR(o string, groups []int32) bool {
	for _, gi := range groups {
		for _, n := range idx.groupsOCR[gi] {
			if n == o {
				return true
			}
		}
	}
	return false
}

// hasInitial reports whether a name in groups starts with c: "S." can
// stand for Basti, whose formal name is Sebastian.
func (idx *nickIndex) hasInitial(groups []int32, c byte) bool {
	if c < 'a' || c > 'z' {
		return false
	}
	for _, gi := range groups {
		if idx.initials[gi]&(1<<(c-'a')) != 0 {
			return true
		}
	}
	return false
}

// initialsOf returns the first letters of the names in groups.
func (idx *nickIndex) initialsOf(groups []int32) []byte {
	var bits uint32
	for _, gi := range groups {
		bits |= idx.initials[gi]
	}
	var out []byte
	for c := byte(0); c < 26; c++ {
		if bits&(1<<c) != 0 {
			out = append(out, 'a'+c)
		}
	}
	return out
}
