"""The words the rules read: news-report English about territorial disputes, not one article's sentences.

Each list is a small closed class (speech verbs, stance cues, titles, territory head nouns). The names
of things (states, islands, people, agreements) never come from here: they come from the graph and the
Wikidata snapshot (`gazetteer`) or from the shape of the text (`rules`).
"""

from __future__ import annotations

# verbs that introduce what someone said (reported speech when followed by a clause, or after a quote)
SPEECH_VERBS = {
    "said", "says", "say", "told", "tells", "added", "adds", "stressed", "stresses", "noted", "notes",
    "stated", "states", "declared", "declares", "announced", "announces", "warned", "warns", "insisted",
    "claimed", "emphasized", "emphasised", "emphasizes", "emphasises", "underlined", "reiterated",
    "reiterates", "explained", "explains", "argued", "argues", "affirmed", "affirms", "remarked",
    "commented", "wrote", "writes", "asserted", "asserts", "accused",
}

# stance cues: the word (lower case) and the stance kind (dk: local name) it signals
STANCE_VERBS: dict[str, str] = {
    **dict.fromkeys(["believe", "believes", "believed", "consider", "considers", "considered", "think",
                     "thinks", "thought", "regard", "regards", "regarded", "maintain", "maintains",
                     "maintained", "view", "views", "viewed", "see", "sees"], "Belief"),
    **dict.fromkeys(["hope", "hopes", "hoped", "expect", "expects", "expected", "wish", "wishes"], "Hope"),
    **dict.fromkeys(["threaten", "threatens", "threatened", "warn", "warns", "warned"], "Threat"),
    **dict.fromkeys(["insist", "insists", "insisted"], "Insistence"),
    **dict.fromkeys(["demand", "demands", "demanded", "urge", "urges", "urged", "call", "calls", "called",
                     "require", "requires", "required"], "Demand"),
    **dict.fromkeys(["oppose", "opposes", "opposed", "object", "objects", "objected", "protest",
                     "protests", "protested", "condemn", "condemns", "condemned"], "Opposition"),
    **dict.fromkeys(["reject", "rejects", "rejected", "refuse", "refuses", "refused"], "Refusal"),
    **dict.fromkeys(["intend", "intends", "intended", "plan", "plans", "planned", "seek", "seeks",
                     "sought", "aim", "aims"], "Intention"),
    **dict.fromkeys(["assess", "assesses", "assessed", "estimate", "estimates", "estimated"], "Assessment"),
}
# nouns that name a stance: "opposition arose from X", "its position was the demand for"
STANCE_NOUNS: dict[str, str] = {"opposition": "Opposition", "demand": "Demand", "demands": "Demand",
                                "protest": "Opposition", "protests": "Opposition", "hope": "Hope",
                                "refusal": "Refusal", "threat": "Threat", "insistence": "Insistence"}
# "did not give up", "will never abandon": a negated giving-up is a refusal
GIVE_UP = {("give", "up"), ("gave", "up"), ("given", "up"), ("abandon",), ("abandoned",), ("renounce",),
           ("renounced",), ("relinquish",), ("relinquished",), ("surrender",), ("cede",), ("ceded",)}
NEGATIONS = {"not", "never", "n't", "no"}
MODAL_NECESSITY = [("it", "is", "necessary"), ("it", "is", "essential"), ("it", "is", "important"),
                   ("must",), ("should",), ("has", "to"), ("have", "to"), ("need", "to"), ("needs", "to")]
MODAL_INTENTION = [("will",), ("shall",), ("would", "continue"), ("in", "order", "to"), ("is", "ready", "to"),
                   ("are", "ready", "to"), ("is", "determined", "to"), ("are", "determined", "to")]

# plural nouns for unnamed groups whose view a report gives ("observers believe", "analysts say");
# their views are assessments, not beliefs of a party
GROUP_NOUNS = {"observers", "analysts", "experts", "critics", "commentators", "scholars", "historians",
               "diplomats", "officials", "sources", "residents", "islanders", "lawmakers", "legislators"}
ASSESSING_GROUPS = {"observers", "analysts", "experts", "critics", "commentators", "scholars", "historians"}

# titles before a person's name; longest first so "Chief Cabinet Secretary" beats "Secretary"
TITLES = sorted([
    "President", "Vice President", "Prime Minister", "Deputy Prime Minister", "Foreign Minister",
    "Defense Minister", "Defence Minister", "Minister", "Chief Cabinet Secretary", "Cabinet Secretary",
    "Secretary of State", "Secretary-General", "Secretary General", "Foreign Secretary", "Spokesman",
    "Spokeswoman", "Spokesperson", "Ambassador", "Envoy", "Chancellor", "King", "Queen", "Emperor",
    "Premier", "Governor", "Mayor", "Senator", "General", "Admiral", "Chairman", "Speaker",
    "Foreign Ministry Spokesperson", "Foreign Ministry spokesperson", "Foreign Ministry spokesman",
], key=lambda t: -len(t.split()))

# head nouns of territory names ("Kuril Islands", "Senkaku islands", "Spratly archipelago")
ISLAND_HEADS = {"island": "Island", "islands": "IslandGroup", "islet": "Island", "islets": "IslandGroup",
                "isle": "Island", "isles": "IslandGroup", "archipelago": "IslandGroup", "atoll": "Island",
                "reef": "Island", "reefs": "IslandGroup", "shoal": "Island", "rocks": "IslandGroup",
                "chain": "IslandGroup"}
REGION_HEADS = {"region", "peninsula", "province", "strait", "sea", "valley", "territory", "territories",
                "plateau", "heights", "enclave", "corridor"}
# head nouns of agreement names; the value is the dk: class
AGREEMENT_HEADS = {"treaty": "Treaty", "treaties": "Treaty", "declaration": "JointDeclaration",
                   "agreement": "Agreement", "agreements": "Agreement", "accord": "Agreement",
                   "accords": "Agreement", "convention": "Treaty", "protocol": "Agreement",
                   "pact": "Treaty", "communique": "Agreement", "communiqué": "Agreement",
                   "memorandum": "Agreement", "armistice": "Agreement"}

# adjectives of nationality and the state name they point to, so "the Japanese government" is the
# government of a state the gazetteer knows as "Japan"
DEMONYMS = {
    "japanese": "Japan", "russian": "Russia", "soviet": "Soviet Union", "chinese": "China",
    "american": "United States", "korean": "Korea", "south korean": "South Korea",
    "north korean": "North Korea", "british": "United Kingdom", "argentine": "Argentina",
    "argentinian": "Argentina", "indian": "India", "pakistani": "Pakistan", "philippine": "Philippines",
    "vietnamese": "Vietnam", "ukrainian": "Ukraine", "georgian": "Georgia", "moroccan": "Morocco",
    "spanish": "Spain", "greek": "Greece", "turkish": "Turkey", "cypriot": "Cyprus", "israeli": "Israel",
    "syrian": "Syria", "venezuelan": "Venezuela", "guyanese": "Guyana", "malaysian": "Malaysia",
    "taiwanese": "Taiwan", "french": "France", "german": "Germany", "chilean": "Chile",
    "bolivian": "Bolivia", "peruvian": "Peru", "ethiopian": "Ethiopia", "eritrean": "Eritrea",
}
GOVERNMENT_WORDS = {"government", "cabinet", "administration", "foreign ministry", "ministry of foreign affairs"}

MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                        "sunday"])}
PRONOUNS_ACTOR = {"it", "its", "they", "their"}
PRONOUNS_PERSON = {"he", "she"}
# words that end a noun phrase list when chaining coordinated names
LIST_GLUE = {",", "and", "or", "the", "as", "well"}

# short English names of sovereign states (UN members and observers) and of former states that territorial
# disputes still name; a closed class, so a report's states are found even when the graph and the Wikidata
# snapshot do not know them yet (they are then proposed as new states, for reconciliation)
STATES = """Afghanistan|Albania|Algeria|Andorra|Angola|Antigua and Barbuda|Argentina|Armenia|Australia|Austria|
Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia and Herzegovina|
Botswana|Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cabo Verde|Cambodia|Cameroon|Canada|Central African Republic|Chad|
Chile|China|Colombia|Comoros|Congo|Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark|Djibouti|Dominica|
Dominican Republic|East Timor|Timor-Leste|Ecuador|Egypt|El Salvador|Equatorial Guinea|Eritrea|Estonia|Eswatini|Ethiopia|
Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|Ghana|Greece|Grenada|Guatemala|Guinea|Guinea-Bissau|Guyana|Haiti|
Honduras|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Ivory Coast|Jamaica|Japan|Jordan|Kazakhstan|
Kenya|Kiribati|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|Lesotho|Liberia|Libya|Liechtenstein|Lithuania|Luxembourg|
Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|Marshall Islands|Mauritania|Mauritius|Mexico|Micronesia|Moldova|Monaco|
Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nauru|Nepal|Netherlands|New Zealand|Nicaragua|Niger|Nigeria|
North Korea|North Macedonia|Norway|Oman|Pakistan|Palau|Palestine|Panama|Papua New Guinea|Paraguay|Peru|Philippines|
Poland|Portugal|Qatar|Romania|Russia|Russian Federation|Rwanda|Saint Lucia|Samoa|San Marino|Saudi Arabia|Senegal|Serbia|
Seychelles|Sierra Leone|Singapore|Slovakia|Slovenia|Solomon Islands|Somalia|South Africa|South Korea|South Sudan|Spain|
Sri Lanka|Sudan|Suriname|Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|Trinidad and Tobago|
Tunisia|Turkey|Türkiye|Turkmenistan|Tuvalu|Uganda|Ukraine|United Arab Emirates|United Kingdom|Britain|Great Britain|
United States|United States of America|Uruguay|Uzbekistan|Vanuatu|Vatican|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe|
Soviet Union|USSR|Russian Empire|Ottoman Empire|Yugoslavia|Czechoslovakia|Qing China|Empire of Japan|UK|US|U.S.|
PRC""".replace("\n", "").split("|")
