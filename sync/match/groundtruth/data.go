package groundtruth

// Name and place lists the generator draws from. Given names carry the
// diacritics of their languages; family names include umlauts, particles
// and double names.

var givenNames = []string{
	"Robert", "William", "Elizabeth", "Margaret", "James", "John", "Michael", "David",
	"Richard", "Thomas", "Christopher", "Daniel", "Matthew", "Anthony", "Catherine",
	"Jennifer", "Patricia", "Susan", "Jessica", "Sarah", "Karen", "Nancy", "Lisa",
	"Alexander", "Benjamin", "Samuel", "Jonathan", "Nicholas", "Andrew", "Joseph",
	"Jürgen", "Jörg", "Björn", "Günther", "Uwe", "Wolfgang", "Klaus", "Dieter", "Sören",
	"Katharina", "Jürgen", "Ursula", "Käthe", "Bärbel", "Sabine", "Heike", "Birgit",
	"Franziska", "Johannes", "Friedrich", "Heinrich", "Matthias", "Sebastian", "Stefan",
	"François", "Hélène", "Élodie", "Thérèse", "Benoît", "Jérôme", "Cécile", "Anaïs",
	"Zoë", "Chloé", "Renée", "Noël", "Gaëlle", "Léa", "Loïc", "Maël",
	"José", "María", "Jesús", "Ramón", "Inés", "Sofía", "Lucía", "Martín", "Andrés",
	"Ignacio", "Francisco", "Dolores", "Guadalupe", "Rosario", "Manuel", "Concepción",
	"Søren", "Bjørn", "Åsa", "Lars", "Ingrid", "Astrid", "Ole", "Sigrid",
	"Anne", "Emma", "Olivia", "Sophie", "Laura", "Julia", "Hannah", "Mia", "Lena",
	"Paul", "Peter", "Frank", "Martin", "Oliver", "Lukas", "Felix", "Max", "Jonas",
	"Victoria", "Rebecca", "Deborah", "Dorothy", "Eleanor", "Isabella", "Josephine",
	"Lawrence", "Leonard", "Patrick", "Philip", "Ronald", "Timothy", "Vincent", "Zachary",
}

// nicknamesOf lists short forms a card may write instead of the given name.
var nicknamesOf = map[string][]string{
	"Robert": {"Bob", "Rob", "Bobby"}, "William": {"Bill", "Will", "Liam"},
	"Elizabeth": {"Liz", "Beth", "Betty", "Lisa"}, "Margaret": {"Maggie", "Peggy", "Meg"},
	"James": {"Jim", "Jimmy", "Jamie"}, "John": {"Johnny", "Jack"}, "Michael": {"Mike", "Mick"},
	"David": {"Dave"}, "Richard": {"Rick", "Dick"}, "Thomas": {"Tom", "Tommy"},
	"Christopher": {"Chris"}, "Daniel": {"Dan", "Danny"}, "Matthew": {"Matt"},
	"Anthony": {"Tony"}, "Catherine": {"Cathy", "Kate"}, "Jennifer": {"Jen", "Jenny"},
	"Patricia": {"Pat", "Patty"}, "Susan": {"Sue", "Susie"}, "Jessica": {"Jess"},
	"Alexander": {"Alex", "Sascha"}, "Benjamin": {"Ben"}, "Samuel": {"Sam"},
	"Jonathan": {"Jon"}, "Nicholas": {"Nick"}, "Andrew": {"Andy"}, "Joseph": {"Joe"},
	"Katharina": {"Kathrin", "Katja"}, "Franziska": {"Franzi"}, "Johannes": {"Hannes", "Hans"},
	"Friedrich": {"Fritz"}, "Heinrich": {"Heinz"}, "Matthias": {"Matze"}, "Sebastian": {"Basti"},
	"José": {"Pepe"}, "Ignacio": {"Nacho"}, "Francisco": {"Paco", "Pancho"},
	"Dolores": {"Lola"}, "Guadalupe": {"Lupe"}, "Rosario": {"Charo"}, "Manuel": {"Manolo"},
	"Concepción": {"Concha"}, "Jesús": {"Chucho"}, "Victoria": {"Vicky"}, "Rebecca": {"Becky"},
	"Deborah": {"Debbie"}, "Dorothy": {"Dot"}, "Eleanor": {"Ellie"}, "Isabella": {"Bella"},
	"Josephine": {"Josie"}, "Lawrence": {"Larry"}, "Leonard": {"Leo", "Lenny"},
	"Patrick": {"Paddy"}, "Philip": {"Phil"}, "Ronald": {"Ron"}, "Timothy": {"Tim"},
	"Vincent": {"Vince"}, "Zachary": {"Zach"}, "Anne": {"Annie"}, "Peter": {"Pete"},
}

var familyNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
	"Taylor", "Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
	"Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
	"Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
	"Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Köhler",
	"Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Leroy", "Moreau", "Laurent",
	"Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Mercier", "Blanc",
	"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
	"Gómez", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
	"García López", "Pérez Gómez", "Müller-Lüdenscheidt", "van der Berg", "de la Cruz", "von Trapp",
	"Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Sørensen", "Kierkegaard", "Ørsted",
	"Lee", "Kim", "Park", "Chen", "Wang", "Li", "Nguyen", "Tran",
	"O'Brien", "McDonald", "MacLeod", "Lindström", "Åkesson", "Kowalski", "Nowak", "Wiśniewski",
}

var syllables = []string{
	"ka", "lo", "mer", "sten", "berg", "ra", "vin", "dal", "tor", "sel", "mun", "ham",
	"ley", "wick", "ford", "ton", "by", "ros", "gar", "ben", "ric", "hol", "zen", "mar",
	"tel", "nov", "ski", "vic", "ber", "lin", "dor", "fel", "gun", "har", "kel", "pas",
}

var titles = []string{
	"CEO", "CFO", "Head of Sales", "Software Engineer", "Account Manager", "Designer",
	"Geschäftsführer", "Projektleiterin", "Ingénieur", "Directrice commerciale",
	"Jefe de ventas", "Consultant", "Partner", "Office Manager", "Researcher",
}

var orgFirst = []string{
	"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Nordlicht", "Bergmann",
	"Rheinland", "Sonnenschein", "Lumière", "Étoile", "Soleil", "Iberia", "Castilla",
	"Fjord", "Polar", "Vertex", "Quantum", "Blue River", "Red Oak", "Silver Line",
	"Hanse", "Alpen", "Atlas", "Orion", "Zenith", "Nimbus", "Cobalt", "Granite",
}

var orgSecond = []string{
	"Consulting", "Logistics", "Software", "Bau", "Technik", "Design", "Media", "Foods",
	"Partners", "Systems", "Labs", "Holding", "Services", "Verlag", "Conseil", "Soluciones",
}

var streets = []string{
	"Hauptstraße", "Bahnhofstr.", "Gartenweg", "Main Street", "High St", "Rue de la Paix",
	"Calle Mayor", "Lindenallee", "Schillerstraße", "Oak Avenue", "Church Road", "Avenida del Sol",
}

var cities = []string{
	"Berlin", "München", "Hamburg", "Köln", "London", "Manchester", "Paris", "Lyon",
	"Madrid", "Sevilla", "København", "Boston", "San Francisco",
}

var mailProviders = []string{
	"gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.fr", "orange.fr", "hotmail.es",
	"icloud.com", "posteo.de", "mailbox.org", "proton.me",
}
