/*
 * synth_words.c: the generator's vocabularies. Deliberately modest (a few hundred words) so a
 * small model trained for hours can learn to read them; invented brand names, so no real
 * trademark is implied. Plain ASCII: every glyph exists in every DejaVu face.
 */
#include "datasets/synth_internal.h"

#define LIST(name, ...)                                                      \
    static const char *const name##_w[] = {__VA_ARGS__};                    \
    const struct wordlist name = {name##_w, (int)(sizeof name##_w / sizeof name##_w[0])}

LIST(words_brands, "Acme", "Nova", "Zenith", "Orbit", "Lumen", "Vertex", "Solara", "Aurora", "Boreal",
     "Citrus", "Delta", "Ember", "Falcon", "Galaxy", "Harbor", "Indigo", "Jasper", "Kestrel", "Lotus",
     "Maple", "Nexus", "Oasis", "Prism", "Quartz", "Raven", "Summit", "Titan", "Ultra", "Velvet", "Willow",
     "Xenon", "Yukon", "Zephyr", "Apex", "Blaze", "Comet", "Dune", "Echo", "Flint", "Glow", "Halo", "Iris",
     "Juno", "Kiwi", "Luna", "Mango", "Nimbus", "Onyx", "Pixel", "Quest", "Rumba", "Sprout", "Tango",
     "Umbra", "Vista", "Wren", "Yeti", "Zest");

LIST(words_signs, "STOP", "EXIT", "OPEN", "CLOSED", "SALE", "PARKING", "HOTEL", "CAFE", "BAKERY",
     "PHARMACY", "BANK", "TAXI", "POLICE", "MARKET", "BOOKS", "PIZZA", "COFFEE", "BAR", "GARDEN", "MUSEUM",
     "LIBRARY", "STATION", "SCHOOL", "THEATER", "CINEMA", "DINER", "GROCERY", "FLOWERS", "TOYS", "SHOES",
     "PHONE", "MOTEL", "BUS", "TRAIN", "POST", "OFFICE", "ENTRANCE", "DANGER", "SLOW", "YIELD", "FRESH",
     "BREAD", "DELI", "GAS", "FOOD", "MUSIC", "GIFTS", "SUSHI", "BURGER", "TEA", "JUICE", "DENTIST", "GYM",
     "SPA", "SALON", "CLINIC", "RADIO", "ARCADE", "HOSPITAL", "AIRPORT", "FERRY", "TICKETS", "BIKES",
     "PIER", "PARK", "ZOO");

LIST(words_common, "the", "of", "and", "to", "in", "is", "for", "on", "with", "as", "at", "by", "from",
     "this", "that", "which", "or", "an", "be", "are", "was", "were", "it", "not", "all", "can", "will",
     "one", "two", "three", "four", "five", "new", "old", "first", "last", "long", "great", "little",
     "own", "other", "right", "big", "high", "small", "large", "next", "early", "young", "few", "public",
     "same", "able", "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child",
     "world", "school", "state", "family", "student", "group", "country", "problem", "hand", "part",
     "place", "case", "week", "company", "system", "program", "question", "work", "number", "night",
     "point", "home", "water", "room", "mother", "area", "money", "story", "fact", "month", "lot",
     "study", "book", "eye", "job", "word", "business", "issue", "side", "kind", "head", "house",
     "service", "friend", "father", "power", "hour", "game", "line", "end", "member", "law", "car",
     "city", "name", "team", "minute", "idea", "kid", "body", "face", "level", "office", "door",
     "health", "person", "art", "war", "history", "party", "result", "change", "morning", "reason",
     "research", "girl", "guy", "moment", "air", "teacher", "force", "education", "river", "market",
     "paper", "light", "music", "table", "garden", "window", "street", "summer", "winter", "stone",
     "north", "south", "green", "blue", "red", "black", "white", "gold", "silver", "bright", "quiet",
     "open", "simple", "clear", "strong", "happy", "ready", "late", "free", "full", "warm", "cold");

LIST(words_titles, "INVOICE", "RECEIPT", "MEMORANDUM", "PURCHASE ORDER", "SHIPPING NOTICE",
     "PAYMENT REPORT", "ORDER FORM", "STATEMENT", "QUOTATION", "DELIVERY NOTE", "EXPENSE REPORT",
     "BILL OF SALE", "WORK ORDER", "PRICE LIST");

LIST(words_first_names, "John", "Mary", "James", "Linda", "Robert", "Susan", "David", "Karen", "Peter",
     "Nancy", "Paul", "Laura", "Mark", "Helen", "Steven", "Anna", "Brian", "Emma", "Kevin", "Alice",
     "Frank", "Grace", "Henry", "Julia", "Oscar", "Rosa", "Victor", "Wendy", "Carl", "Diana");

LIST(words_last_names, "Smith", "Brown", "Miller", "Wilson", "Moore", "Taylor", "Clark", "Lewis", "Walker",
     "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
     "Campbell", "Mitchell", "Roberts", "Carter", "Turner", "Parker", "Evans", "Collins", "Stewart", "Morris");

LIST(words_cities, "Boston", "Denver", "Austin", "Dallas", "Seattle", "Portland", "Chicago", "Phoenix",
     "Atlanta", "Miami", "Houston", "Detroit", "Memphis", "Raleigh", "Tampa", "Omaha", "Tulsa", "Reno",
     "Fresno", "Boise", "Albany", "Dayton", "Toledo", "Madison", "Lincoln");

LIST(words_items, "Paper", "Pens", "Toner", "Chairs", "Lamps", "Cables", "Folders", "Stamps", "Envelopes",
     "Tape", "Labels", "Markers", "Boxes", "Batteries", "Desks", "Shelves", "Printers", "Monitors");

LIST(words_months, "January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December");

LIST(words_company_suffixes, "Inc", "Ltd", "Co", "Corp", "Group", "Labs", "Supply", "Foods");

LIST(words_store_kinds, "MART", "STORE", "SHOP", "OUTLET", "DEPOT", "TRADING");
