"""Everyday articles whose name the nomenclature never uses, read from a glossary of our own.

The schedule's texts say "input or output units", "lip make-up preparations", "swivel seats with
variable height adjustment"; catalogs say "wireless mouse", "lipstick", "office chair". Word
search then follows the other words ("a wireless mouse with USB *receiver*" went to telephone
sets, "office chair" to railway sleepers) and meaning cannot bridge a word the schedule lacks.
The glossary maps the article a product's opening phrase ends with (and, where a word is
ambiguous, the context that settles it) to the heading or subheading where such goods are
classified, as the HS explanatory notes and customs rulings place them; ``propose`` takes that
code's line nearest in meaning. It is consulted only when no structured reading reads the
product, and it is advice like every retrieval ranking: the facts (material, power source,
use) still decide, and a broker confirms.

Pure: reads the ``Reference`` and its semantic index; no ORM.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from classification.engine import descent
from tariffs.codes import fmt

# (what it is, the code prefix, the article's words at the end of the opening phrase, the
# context the text must also name, or "" for none; "!…": the context it must not name). First
# match wins, so narrower entries first.
GLOSSARY = (
    # Computers, networks, sound and vision.
    (
        "computer mouse",
        "847160",
        r"(?:computer |wireless |optical |gaming |usb |bluetooth )mouse|mice|trackballs?",
        "",
    ),
    ("computer mouse", "847160", r"mouse", r"usb|wireless|computer|dpi|bluetooth|optical|laptop"),
    (
        "computer keyboard",
        "847160",
        r"keyboards?",
        r"usb|wireless|bluetooth|computer|laptop|mechanical|gaming|backlit|pc\b|keycaps?",
    ),
    (
        "computer monitor",
        "852852",
        r"(?:computer |pc |gaming |lcd |led |ips )?monitors?",
        r"computer|pc\b|gaming|hdmi|displayport|\d+ ?(?:inch|in\b|\")|ips|hz",
    ),
    (
        "network router or switch",
        "851762",
        r"(?:wi-?fi |wireless |network |mesh )?(?:routers?|modems?|access points?|"
        r"network switch(?:es)?|range extenders?)",
        "",
    ),
    (
        "smartwatch or fitness tracker",
        "851762",
        r"smart ?watch(?:es)?|fitness trackers?|activity trackers?|fitness bands?",
        "",
    ),
    (
        "headphones or earphones",
        "851830",
        r"(?:wireless |bluetooth |noise[- ]cancell?ing )?(?:ear ?buds|earphones?|headphones?|"
        r"headsets?|earpieces?)",
        "",
    ),
    (
        "loudspeaker",
        "85182",
        r"(?:bluetooth |portable |wireless |smart |bookshelf |computer )speakers?|sound ?bars?",
        "",
    ),
    (
        "microphone",
        "851810",
        r"microphones?|mics?",
        r"usb|condenser|dynamic|wireless|lavalier|podcast|recording|xlr",
    ),
    (
        "camera",
        "85258",
        r"(?:security |surveillance |ip |dash |action |web ?|digital |doorbell )cam(?:era)?s?|"
        r"webcams?|dashcams?",
        "",
    ),
    (
        "charger or power adapter",
        "850440",
        r"(?:phone |usb |wall |wireless |fast |laptop |car )?chargers?|(?:power|ac|"
        r"charging) adapters?",
        "",
    ),
    (
        "cable with connectors",
        "854442",
        r"(?:usb(?:-[ac])?|hdmi|lightning|charging|data|ethernet|displayport|audio|aux) cables?|"
        r"(?:extension|power) cords?",
        "",
    ),
    ("power strip or surge protector", "853630", r"power strips?|surge protectors?", ""),
    ("LED lamp", "853952", r"(?:led )?(?:light )?bulbs?", r"led"),
    ("table or floor lamp", "94052", r"(?:desk|table|bedside|floor|reading|night) lamps?", ""),
    ("lighting string", "94053", r"(?:string|fairy|christmas|twinkle) lights?", ""),
    ("flashlight", "851310", r"flashlights?|torches|head ?lamps?", ""),
    (
        "game controller or console",
        "950450",
        r"(?:game |gaming )?controllers?|gamepads?|joysticks?|(?:video )?game consoles?",
        r"game|gaming|console|xbox|playstation|switch|pc\b",
    ),
    ("tripod or monopod", "962000", r"tripods?|monopods?|selfie sticks?", ""),
    ("screen protector", "700719", r"(?:tempered glass )?screen protectors?", r"glass"),
    # Electric household and personal care appliances.
    ("hair dryer", "851631", r"hair ?dryers?|blow ?dryers?", ""),
    (
        "hair styling appliance",
        "851632",
        r"hair straighteners?|flat irons?|curling (?:irons?|wands?)|hot brushes?|hair stylers?",
        "",
    ),
    (
        "electric shaver",
        "851010",
        r"(?:electric )?shavers?|(?:electric )?razors?",
        r"electric|rechargeable|cordless|battery|foil|rotary",
    ),
    (
        "hair clipper",
        "851020",
        r"(?:hair )?clippers?|(?:beard |hair )?trimmers?",
        r"electric|rechargeable|cordless|battery",
    ),
    ("electric toothbrush", "850980", r"(?:electric |sonic )toothbrush(?:es)?", ""),
    (
        "electric kettle or coffee maker",
        "851671",
        r"(?:electric )?kettles?|coffee ?makers?|espresso machines?|coffee machines?",
        r"electric|cordless|watts?|\d+ ?w\b|machine|maker",
    ),
    ("toaster", "851672", r"toasters?", ""),
    (
        "food blender or mixer",
        "850940",
        r"blenders?|(?:stand |hand )mixers?|food processors?|juicers?",
        "",
    ),
    (
        "air fryer or rice cooker",
        "851660",
        r"air fryers?|rice cookers?|slow cookers?|electric (?:grills?|griddles?)",
        "",
    ),
    # Cosmetics and toiletries.
    ("lip make-up", "330410", r"lipsticks?|lip (?:gloss(?:es)?|liners?|stains?|tints?)", ""),
    (
        "eye make-up",
        "330420",
        r"mascaras?|eye ?liners?|eye ?shadows?(?: palettes?)?|brow (?:pencils?|gels?)",
        "",
    ),
    (
        "nail preparation",
        "330430",
        r"nail (?:polish(?:es)?|varnish(?:es)?|lacquers?)|gel polish(?:es)?",
        "",
    ),
    (
        "perfume",
        "330300",
        r"perfumes?|eau de (?:parfum|toilette|cologne)|colognes?",
        "",
    ),
    (
        "skin care or make-up",
        "330499",
        r"(?:face|facial|night|day|eye|hand|body|foot|baby|nappy(?: rash)?|diaper(?: rash)?|"
        r"barrier|anti-?ag(?:e|ing)|moisturi[sz]ing|sun|skin|shaving|retinol) creams?|"
        r"moisturi[sz]ers?|(?:face|facial|skin|vitamin c|hyaluronic(?: acid)?|retinol) serums?|"
        r"sunscreens?|sunblocks?|(?:liquid|cream|powder|makeup|make-up) foundations?|"
        r"concealers?|(?:body|hand|baby|sun|skin|after ?sun) lotions?",
        "",
    ),
    ("shampoo", "330510", r"shampoos?", ""),
    ("deodorant", "330720", r"deodorants?|antiperspirants?", ""),
    ("toothpaste", "330610", r"tooth ?pastes?", ""),
    ("candle", "340600", r"candles?", ""),
    # Jewellery, by what it is made of.
    (
        "jewellery of silver",
        "711311",
        r"(?:necklaces?|pendants?|earrings?|bracelets?|anklets?|brooch(?:es)?|chains?|rings?)",
        r"sterling|925 silver|silver 925|solid silver|\.925",
    ),
    (
        "jewellery of gold",
        "711319",
        r"(?:necklaces?|pendants?|earrings?|bracelets?|anklets?|brooch(?:es)?|rings?)",
        r"\d{1,2} ?k(?:t|arat)? (?:solid )?gold|solid gold",
    ),
    (
        "imitation jewellery of base metal",
        "711719",
        r"(?:necklaces?|pendants?|earrings?|bracelets?|anklets?|brooch(?:es)?|charms?|"
        r"jewel(?:le)?ry)",
        r"plated|tone|alloy|stainless|brass|copper|titanium|fashion|costume|metal",
    ),
    (
        "imitation jewellery",
        "711790",
        r"(?:necklaces?|pendants?|earrings?|bracelets?|anklets?|jewel(?:le)?ry)",
        r"beads?|acrylic|plastic|resin|glass|wood(?:en)?|shell|fabric|cord",
    ),
    # Headgear.
    (  # not welding helmets (goggles of 9004, or respirators of 9020)
        "safety headgear",
        "650610",
        r"hard hats?|(?:safety|bike|bicycle|cycling|motorcycle|ski|climbing|construction) helmets?",
        "",
    ),
    ("straw hat", "650400", r"straw hats?|(?:panama|boater) hats?", ""),
    (
        "hat or cap",
        "6505",
        r"(?:baseball|trucker|snapback|knit(?:ted)?|winter|sun|bucket|fisherman|flat|golf|peaked|"
        r"dad|running) (?:caps?|hats?)|beanies?|berets?|fedoras?|visors?",
        "",
    ),
    # Sports, fitness and games.
    (
        "gym equipment",
        "950691",
        r"dumbbells?|kettlebells?|barbells?|weight plates?|resistance bands?|(?:yoga|exercise|"
        r"fitness|pilates|gym) mats?|pull[- ]up bars?|ab rollers?|jump ropes?|skipping ropes?|"
        r"treadmills?|exercise bikes?|foam rollers?",
        "",
    ),
    (
        "inflatable ball",
        "950662",
        r"(?:foot|soccer |basket|volley|beach |rugby |netball )balls?",
        "",
    ),
    ("tennis racket", "950651", r"tennis rackets?|tennis racquets?", ""),
    ("golf club", "950631", r"golf clubs?|drivers?|putters?", r"golf"),
    ("fishing rod", "950711", r"fishing rods?|fishing poles?", ""),
    ("fishing reel", "950730", r"fishing reels?|(?:spinning|baitcasting) reels?", ""),
    ("skateboard", "950699", r"skateboards?|longboards?", ""),
    ("board game", "950490", r"board games?|card games?|chess sets?", ""),
    ("tent", "6306", r"tents?", r"camping|person|waterproof|pop-?up|dome|backpacking"),
    ("sleeping bag", "940430", r"sleeping bags?", ""),
    # Furniture and bedding.
    (
        "swivel office chair",
        "94013",
        r"(?:office|desk|gaming|swivel|computer|task|executive|ergonomic) chairs?",
        "",
    ),
    ("sofa", "9401", r"sofas?|couch(?:es)?|loveseats?|recliners?|armchairs?", ""),
    (
        "furniture",
        "9403",
        r"(?:coffee |side |dining |end |console |computer |writing |standing |"
        r"office )?(?:tables?|desks?)|bookshel(?:f|ves)|bookcases?|night ?stands?|dressers?|"
        r"wardrobes?|tv stands?|shoe racks?|filing cabinets?|storage cabinets?",
        # Not machines, medical or game tables, nor a welding "tip dresser".
        r"!rotary|indexing|surgical|operating|examination|massage|pool|billiard|ping ?pong|"
        r"tennis|x-ray|vibrat\w+|lift(?:ing)?|turn ?table|router|saw|drafting|tilting|tip|"
        r"machines?|welding|robotic",
    ),
    ("mattress", "94042", r"mattress(?:es)?|mattress toppers?", ""),
    (
        "duvet or quilt",
        "940440",
        r"duvets?|comforters?|quilts?|eiderdowns?",
        r"fill|down|feather|polyester|microfib|cotton|bed|queen|king|single|double|twin",
    ),
    (
        "pillow",
        "940490",
        r"(?:bed |sleeping |memory foam |throw |decorative )?pillows?|cushions?",
        "",
    ),
    # Household textiles.
    (
        "bed linen",
        "6302",
        r"(?:bed ?)?sheets?(?: sets?)?|pillow ?cases?|duvet covers?|bedding sets?",
        r"bed|queen|king|twin|single|double|pillow|duvet|thread count|percale|sateen",
    ),
    ("towel", "6302", r"(?:bath|hand|beach|kitchen|tea|face) towels?|towels?|washcloths?", ""),
    (
        "blanket",
        "6301",
        r"blankets?|throws?",
        r"fleece|wool|cotton|polyester|acrylic|knit|sherpa|blanket",
    ),
    ("curtain", "6303", r"curtains?|drapes?|window panels?", ""),
    # Stationery, tools and others.
    (
        "notebook",
        "482020",
        r"notebooks?|journals?|exercise books?",
        r"pages?|sheets?|ruled|lined|dotted|spiral|a5|a4|hardcover|paper",
    ),
    (
        "ballpoint or gel pen",
        "96081",
        r"(?:ballpoint |ball ?point |gel |rollerball |ink )pens?",
        "",
    ),
    ("pencil", "960910", r"(?:graphite |lead |colou?red |hb )?pencils?", ""),
    (
        "scissors",
        "821300",
        r"scissors|shears",
        r"cut|blade|stainless|fabric|kitchen|office|sewing|hair",
    ),
    ("umbrella", "6601", r"umbrellas?|parasols?", ""),
    ("sunglasses", "900410", r"sunglasses", ""),
    (
        "spectacles",
        "900490",
        r"(?:reading|blue light(?: blocking)?|computer|safety) glasses|eyewear",
        "",
    ),
    (
        "cordless drill",
        "846721",
        r"(?:cordless |electric |power |hammer )drills?|drill drivers?|impact drivers?",
        "",
    ),
    ("tape measure", "901780", r"tape measures?|measuring tapes?", ""),
    ("stroller", "871500", r"strollers?|prams?|pushchairs?|baby carriages?", ""),
    (
        "child car seat",
        "940120",
        r"(?:child |baby |infant |toddler )?car seats?|booster seats?",
        r"child|baby|infant|toddler|kid|booster",
    ),
    (
        "pet collar or leash",
        "420100",
        r"(?:dog|cat|pet) (?:collars?|leash(?:es)?|harness(?:es)?|leads?)",
        "",
    ),
)
_ENTRIES = [
    (
        name,
        prefix,
        re.compile(rf"(?<![\w-])(?:{words})$"),
        re.compile(rf"(?<![\w-])(?:{context.lstrip('!')})") if context else None,
        context.startswith("!"),
    )
    for name, prefix, words, context in GLOSSARY
]
# Any entry's words at the end of a phrase: one search before the entries are tried in turn.
_ANY = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"(?:{words})" for _, _, words, _ in GLOSSARY) + r")$"
)
# What a glossary word then names instead: toys and models of the article, its parts, and
# the articles of the structured readings.
_NOT_READ = re.compile(
    r"(?<![\w-])(?:toys?|miniatures?|dolls?|replacement|spare|dummy|models?|antiques?)(?![\w-])"
)
_OPENING_END = descent.opening_end(r"by|on|at|measuring(?= \d)|weighing|approximately")
# What a listing puts after the article: counts, sizes and ratings ("dumbbells set", "hair dryer
# 1800 W", "LED light bulbs A19").
_TRAILING = re.compile(
    r"(?:\s+(?:sets?|packs?|kits?|pairs?|pcs|pieces?|complete|[a-z]?\d[\w./-]*|w|v|mah|mm|cm|m|"
    r"in|inch(?:es)?|ft|oz|ml|l|kg|g|lbs?))+$"
)


@dataclass(frozen=True)
class Reading:
    name: str  # what the glossary calls it
    prefix: str  # the code prefix it points at
    word: str  # the product's words for it


class Proposal(descent.Proposal):
    basis = "article"

    @property
    def label(self) -> str:
        r = self.reading
        named = r.name if r.word == r.name else f"{r.name} ({r.word})"
        return f"{named} → {fmt(r.prefix)}"

    @property
    def stated(self) -> bool:
        return False  # a glossary entry names where such goods usually go, not the facts

    @property
    def detail(self) -> dict:
        return {"article": self.reading.word, "glossary": self.reading.name}

    def contradicts(self, code: str) -> bool:
        return False  # advice only: it never sets a precedent or a rule aside


def read(facts: Mapping[str, object]) -> Reading | None:
    """The glossary's article the opening phrase ends with, in the context it needs, or None."""
    description = descent.fold(str(facts.get("description") or ""))
    named = [descent.fold(str(facts.get(k) or "")) for k in ("product_type", "name")]
    text = " ".join([*named, description])
    for source in (*named, description):
        opening = _OPENING_END.split(source, maxsplit=1)[0].strip(" .'\"")
        opening = _TRAILING.sub("", opening)
        # The tail is enough for the screen: no entry's words are longer.
        if not opening or not _ANY.search(opening[-48:]) or _NOT_READ.search(opening):
            continue
        for name, prefix, words, context, unless in _ENTRIES:
            found = words.search(opening)
            if found and (context is None or bool(context.search(text)) != unless):
                return Reading(name, prefix, found.group(0))
    return None


def propose(reading: Reading | None, reference, index=None, vector=None) -> list[Proposal]:
    """The line under the glossary's code nearest in meaning (one proposal), or none."""
    if reading is None:
        return []
    code = descent.nearest_under(reference, reading.prefix, index, vector)
    return [Proposal(code, 1, reading.prefix[:4], reading)] if code else []


def settle(proposals: list[Proposal], fused: Mapping[str, float], reference) -> list:
    """A glossary entry names a heading or subheading, not the line: where search already ranks
    declarable lines under it, the best of them takes the proposal's place (a "cordless vacuum
    cleaner" keeps the line its words found instead of the heading's line nearest in meaning)."""
    out = []
    for p in proposals:
        found = [
            (relevance, code)
            for code, relevance in fused.items()
            if code.startswith(p.reading.prefix) and reference.is_declarable(code)
        ]
        out.append(replace(p, code=max(found)[1]) if found else p)
    return out
