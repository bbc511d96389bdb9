"""The words of Section XI's garments and fibres, as products name them and as the nomenclature's
lines do: the vocabulary ``engine/garments.py`` reads a garment with. Facts, not logic."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Garment:
    key: str
    pattern: str  # the product's words for it (regular expression, lower case)
    # headings: (knitted men's, knitted women's, woven men's, woven women's); "" = none
    headings: tuple[str, str, str, str]
    names: tuple[str, ...]  # the nomenclature's words for it, as its lines name it
    babies: bool = True  # a babies' garment of 6111 / 6209 when made for babies


# Most specific first: a span taken by one garment is not read again ("swim shorts" is swimwear,
# "boxer shorts" underwear, "T-shirt" not a shirt, "dressing gown" not a dress).
GARMENTS = (
    Garment(
        "swimwear",
        r"swim ?suits?|swimwear|swim(?:ming)? (?:trunks|shorts|boxers?|briefs?|bottoms?|tops?)|"
        r"bathing suits?|bikinis?|board ?shorts|tankinis?",
        ("6112", "6112", "6211", "6211"),
        ("swimwear",),
    ),
    Garment(
        "track suit",
        r"track ?suits?|jogging suits?|warm[- ]?up suits?|sweat ?suits?",
        ("6112", "6112", "6211", "6211"),
        ("track suits",),
    ),
    Garment(
        "ski suit",
        r"ski[- ]?suits?|snow ?suits?",
        ("6112", "6112", "6211", "6211"),
        ("ski suits",),
    ),
    Garment(
        "brassiere",
        r"bras?|brassieres?|bralettes?",
        ("6212", "6212", "6212", "6212"),
        ("brassieres",),
        babies=False,
    ),
    Garment(
        "girdle",
        r"girdles?|panty[- ]girdles?|corsets?|corselettes?",
        ("6212", "6212", "6212", "6212"),
        ("girdles", "corsets", "corselettes"),
        babies=False,
    ),
    Garment(
        "tights",
        r"tights|panty ?hose|pantyhose|leg warmers",
        ("6115", "6115", "", ""),
        ("panty hose", "pantyhose", "tights", "hosiery"),
    ),
    Garment(
        "socks",
        r"socks?|stockings?|anklets|hosiery|footies",
        ("6115", "6115", "", ""),
        ("socks", "stockings"),
    ),
    Garment(
        "underpants",
        r"underpants|briefs|boxers?(?: shorts| briefs)?|panties|panty|knickers|thongs?|"
        r"boy ?shorts|undies",
        ("6107", "6108", "6207", "6208"),
        ("underpants", "briefs", "panties"),
    ),
    Garment(
        "sleepwear",
        r"pa?jamas?|pyjamas?|nightshirts?|night ?gowns?|night ?dress(?:es)?|nighties?|"
        r"sleepwear|sleep ?shirts?|sleep(?:ing)? gowns?|sleep ?sets?",
        ("6107", "6108", "6207", "6208"),
        ("pajamas", "pyjamas", "nightshirts", "nightdresses", "nightgowns"),
    ),
    Garment(
        "bathrobe",
        r"bath ?robes?|robes?|dressing gowns?|house ?coats?|negligees?",
        ("6107", "6108", "6207", "6208"),
        ("bathrobes", "dressing gowns", "robes", "negligees"),
    ),
    Garment(
        "slip",
        r"slips|petticoats?|half[- ]slips?|full[- ]slips?",
        ("6108", "6108", "6208", "6208"),
        ("slips", "petticoats"),
    ),
    Garment(
        "T-shirt",
        r"t[- ]?shirts?|tees|tee|tank ?tops?|singlets?|undershirts?|camisoles?",
        ("6109", "6109", "6205", "6206"),
        ("t-shirts", "singlets", "tank tops", "undershirts"),
    ),
    Garment(
        "sweater",
        r"sweaters?|pullovers?|cardigans?|sweat ?shirts?|hoodies?|hoody|vests?|waistcoats?|"
        r"gilets?|twin ?sets?",
        ("6110", "6110", "", ""),
        ("sweaters", "pullovers", "cardigans", "sweatshirts", "vests", "waistcoats", "jerseys"),
    ),
    Garment(
        "suit-type jacket",
        r"blazers?|sport ?coats?|suit[- ]type jackets?|suit jackets?|tailored jackets?",
        ("6103", "6104", "6203", "6204"),
        ("blazers", "suit-type jackets", "jackets and blazers"),
    ),
    Garment(
        "coat",
        r"(?:over|top|car|rain|pea|trench|duffle?|great)?coats?|parkas?|anoraks?|capes?|"
        r"cloaks?|ponchos?|wind ?breakers?|wind[- ]?cheaters?|(?:wind|ski|rain)[- ]?jackets?|"
        r"jackets?|outerwear|rainwear",
        ("6101", "6102", "6201", "6202"),
        (
            "overcoats",
            "coats",
            "carcoats",
            "capes",
            "cloaks",
            "anoraks",
            "ski-jackets",
            "wind-cheaters",
            "wind-jackets",
            "raincoats",
            "jackets",
            "parkas",
        ),
    ),
    Garment("suit", r"suits?", ("6103", "6104", "6203", "6204"), ("suits",)),
    Garment("ensemble", r"ensembles?", ("6103", "6104", "6203", "6204"), ("ensembles",)),
    Garment(
        "overalls",
        r"(?:bib(?: and brace)? )?overalls|shortalls?|dungarees",
        ("6103", "6104", "6203", "6204"),
        ("overalls",),
    ),
    Garment(
        "shorts",
        r"shorts|short pants|bermudas",
        ("6103", "6104", "6203", "6204"),
        ("shorts",),
    ),
    Garment(
        "trousers",
        r"trousers|pants|slacks|jeans|joggers|sweat ?pants|leggings|jeggings|breeches|capris|"
        r"chinos",
        ("6103", "6104", "6203", "6204"),
        ("trousers", "breeches", "slacks", "pants"),
    ),
    Garment(
        "shirt",
        r"(?:dress |polo |button[- ](?:down|up) |work |flannel |oxford )?shirts?|polos?",
        ("6105", "6106", "6205", "6206"),
        ("shirts",),
    ),
    Garment("dress", r"dress(?:es)?|gowns?", ("", "6104", "", "6204"), ("dresses",)),
    Garment("skirt", r"skirts?|skorts?", ("", "6104", "", "6204"), ("skirts",)),
    Garment("blouse", r"blouses?|tunics?", ("6105", "6106", "6205", "6206"), ("blouses",)),
    Garment(
        "scarf",
        r"scarf|scarves|shawls?|mufflers?|stoles?|bandanas?|neck ?warmers?|snoods?",
        ("6117", "6117", "6214", "6214"),
        ("shawls", "scarves", "mufflers"),
        babies=False,
    ),
    Garment(
        "tie",
        r"neck ?ties?|bow ?ties?|cravats?",
        ("6117", "6117", "6215", "6215"),
        ("ties", "bow ties", "cravats"),
        babies=False,
    ),
    Garment(
        "gloves",
        r"gloves?|mittens?|mitts",
        ("6116", "6116", "6216", "6216"),
        ("gloves", "mittens", "mitts"),
    ),
    Garment(
        "other garment",
        r"aprons?|smocks?|jumpsuits?|coveralls?|rompers?|body ?suits?|playsuits?|onesies?|"
        r"catsuits?|unitards?",
        ("6114", "6114", "6211", "6211"),
        (),
    ),
)
# Every garment word the nomenclature's lines use: a line naming one names what it is for.

# Fibre word → material; material → its chapter of Section XI (man-made fibres: 54 and 55 as one).
FIBRES = {
    "cotton": "cotton",
    "wool": "wool",
    "woolen": "wool",
    "woollen": "wool",
    "lambswool": "wool",
    "merino": "wool",
    "cashmere": "wool",
    "alpaca": "wool",
    "mohair": "wool",
    "angora": "wool",
    "camel hair": "wool",
    "yak": "wool",
    "vicuna": "wool",
    "fine animal hair": "wool",
    "silk": "silk",
    "linen": "flax",
    "flax": "flax",
    "ramie": "vegetable",
    "hemp": "vegetable",
    "jute": "vegetable",
    "polyester": "synthetic",
    "nylon": "synthetic",
    "polyamide": "synthetic",
    "acrylic": "synthetic",
    "modacrylic": "synthetic",
    "spandex": "synthetic",
    "elastane": "synthetic",
    "lycra": "synthetic",
    "elastomeric": "synthetic",
    "polypropylene": "synthetic",
    "olefin": "synthetic",
    "aramid": "synthetic",
    "microfiber": "synthetic",
    "microfibre": "synthetic",
    "synthetic": "synthetic",
    "man-made": "synthetic",
    "manmade": "synthetic",
    "rayon": "artificial",
    "viscose": "artificial",
    "modal": "artificial",
    "lyocell": "artificial",
    "tencel": "artificial",
    "acetate": "artificial",
    "triacetate": "artificial",
    "cupro": "artificial",
    "bamboo": "artificial",  # bamboo textiles are regenerated cellulose (viscose)
    "artificial": "artificial",
}
FIBRE_CHAPTER = {
    "silk": 50,
    "wool": 51,
    "cotton": 52,
    "flax": 53,
    "vegetable": 53,
    "synthetic": 54,
    "artificial": 54,
}
# How the nomenclature names each material in "Of …" and "Containing … of …" lines.
NAMED_IN_LINES = {
    "cotton": ("cotton",),
    "wool": ("wool", "fine animal hair"),
    "silk": ("silk",),
    "flax": ("flax",),
    "vegetable": ("vegetable",),
    "synthetic": ("synthetic", "man-made"),
    "artificial": ("artificial", "man-made"),
}
