"""Crisis and disclosure detection, in layers, with no Rasa imports.

Missing a young person in crisis is the worst thing this assistant can do, so the
check prefers a false alarm to a miss. It runs three layers on every message and
reports the first that fires:

1. ``phrase``: regular expressions for what people in crisis write, with spelling
   variants and UK and young people's slang ("kms", "unalive", "sh", "sucide").
2. ``third_party``: a parent or teacher reporting what a child said or did ("my
   son said he wants to die", "found cuts on her arms").
3. ``semantic``: cosine similarity, with the bundled MiniLM model, between each
   sentence of the message and a curated set of crisis and disclosure phrases.

Disclosure of harm by someone else ("my stepdad hits me") is its own kind, because
it gets the safeguarding routes. When a message is both, crisis wins: its reply
also carries 999 and Childline.

Negation and figures of speech are handled only by *masking* a few harmless fixed
phrases ("suicide prevention policy", "my son hits me") before matching. Masking
removes just that span, so crisis words elsewhere in the message still fire.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

CRISIS = "crisis"
DISCLOSURE = "disclosure"
NONE = "none"

# Semantic thresholds, chosen by ``tests/safety/calibrate.py`` on
# ``tests/safety/calibration.yml`` (separate from the test sets). The rule: the
# lowest threshold (step 0.01) whose semantic-only false alarms on the 98
# calibration negatives are at most 2%, so the net catches what it can while the
# pattern layers keep the rest of the 5% false-alarm budget. Run on 2026-11-23:
#   crisis 0.62: semantic-only recall 0.48 on 50 positives, 0/98 false alarms
#     (0.60 would flag 3/98); patterns or semantic together: recall 0.90
#   disclosure 0.66: semantic-only recall 0.42 on 24 positives, 1/98 false alarms
#     (0.65 would flag 2/98); patterns or semantic together: recall 0.88
CRISIS_THRESHOLD = 0.62
DISCLOSURE_THRESHOLD = 0.66

# Longest message the semantic layer reads in full; the phrase layers read all.
_MAX_SENTENCES = 24

_SELF = r"(?:my\s*sel+f|my\s*sefl|my\s*slef|mysef|myslf|meself|mysel|me\s*self)"
_OTHER_SELF = r"(?:him\s*self|her\s*self|them\s*sel(?:f|ves)|themself)"
_KILL = r"(?:k+i+l+(?:l|ed|ing|s)*|kil|kll|kiil)"
_SUICIDE = (
    r"(?:s+u+i+c+i+d+e*|s+u+c+i+d+e|s+u+i+s+i+d+e|s+u+i+c+i+e+d|suicid\w*|"
    r"sooicide|sucidal|suisidal|suicdal|suicidal|sewer\s*slide|sui)"
)
_NOT = r"(?:don'?t|do\s+not|dont|didn'?t|never|can'?t|cannot|won'?t|no\s+longer)"
_WANT = r"(?:want|wanna|wana|wan|wish|feel\s+like|going|gonna|goin|planning|plan|" \
        r"thinking\s+(?:about|of)|think\s+about|about|try|trying|tried|ready|decided)"
_PERSON = (
    r"(?:son|daughter|child|kid|boy|girl|stepson|stepdaughter|grandson|granddaughter|"
    r"nephew|niece|pupil|student|teen|teenager|young\s+person|yp|he|she|they|"
    r"friend|mate|brother|sister|class\s*mate)"
)
_REPORT = (
    r"(?:said|says|say|told|tells|tell|keeps?\s+saying|kept\s+saying|talking|talks|"
    r"talked|mentioned|mentions|wrote|writes|written|posted|posts|texted|searched|"
    r"searching|googl\w*|threaten\w*|has\s+been|is|was|wants|want|wanted|tried|"
    r"tries|trying|attempted|thinks|thought|feels|admitted|disclosed|confided|"
    r"shared|let\s+slip|saying|asked)"
)

# (pattern, label) pairs; the label is part of the evidence a reviewer reads.
_CRISIS_PATTERNS: list[tuple[str, str]] = [
    (rf"\b{_KILL}\s*{_SELF}", "kill myself"),
    (r"\bk\s*m\s*s\b|\bkmsl?\b", "kms"),
    (r"\bk\s*y\s*s\b", "kys"),
    (r"\bun\s*-?\s*aliv\w*", "unalive"),
    (rf"\b{_SUICIDE}\b", "suicide"),
    (r"\bend(?:ing|ed)?\s+(?:it\s+)?(?:al+|it\s+al+)\b", "end it all"),
    (r"\bend(?:ing|ed)?\s+(?:my|me)\s+(?:own\s+)?li(?:fe|ves)\b", "end my life"),
    (r"\bend(?:ing)?\s+(?:things|everything|it)\s+(?:tonight|today|now|soon|for\s+good|forever)",
     "end things"),
    (r"\b(?:end|ending|finish|finishing)\s+(?:it|things|everything)\b(?=.{0,40}\b(?:for\s+good|"
     r"forever|tonight|once\s+and\s+for\s+all|pills|rope|bridge))", "end it"),
    (r"\btak(?:e|ing|en)\s+my\s+(?:own\s+)?life\b", "take my own life"),
    (rf"\b{_NOT}\s+(?:want|wanna|wana|wish)\s+(?:to\s+)?(?:be\s+)?(?:here|alive|around|"
     r"living|live|exist|existing|wake\s+up|be\s+here)\b", "don't want to be here"),
    (rf"\b{_NOT}\s+(?:want|wanna|wana)\s+to\s+(?:go\s+on|carry\s+on|keep\s+going)\b",
     "don't want to go on"),
    (r"\b(?:wants?|wanna|wana|wish\s+i\s+could|wish|going|gonna|ready|deserve|should|"
     r"might\s+as\s+well|just|plan\w*|rather|need|trying|try|hope\s+i|hoping\s+to)\s+"
     r"(?:to\s+|2\s+)?(?:just\s+)?(?:die|dye|be\s+(?:dead|ded)|"
     r"not\s+exist|disappear\s+forever|stop\s+existing|not\s+wake\s+up|never\s+wake\s+up)\b",
     "want to die"),
    (r"\bwish(?:ed|es)?\s+(?:i\s+|he\s+|she\s+|they\s+)?(?:was|were|wasn'?t|was\s+never|had\s+never\s+been|i'?d\s+never\s+been)"
     r"\s*(?:dead|ded|born|never\s+born|alive|here|gone|around)\b", "wish I was dead"),
    (r"\bbet+er\s+of+\s+(?:dead|without\s+me|if\s+i\s+(?:was|were)n?'?t?\s*(?:here|around|"
     r"alive|gone|dead)|with(?:out)?\s+me\s+gone|if\s+i\s+(?:died|disappeared|was\s+gone))",
     "better off without me"),
    (r"\bno\s+(?:rea?s+o+n|point|purpose)\s+(?:to|in|of)?\s*(?:liv\w*|be\s+alive|being\s+alive|"
     r"carry\w*\s+on|going\s+on|exist\w*|being\s+here|life|my\s+life)", "no reason to live"),
    (r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b", "nothing to live for"),
    (r"\b(?:life|living)\s+(?:is|isn'?t|feels)\s+(?:not\s+)?(?:worth\s+living|pointless|"
     r"not\s+worth\s+it)", "life not worth living"),
    (r"\bnot\s+worth\s+living\b", "not worth living"),
    (r"\bcan'?t\s+(?:go\s+on|carry\s+on|keep\s+going|live\s+like\s+this|take\s+(?:it|this)\s+"
     r"any\s*more)\b", "can't go on"),
    (rf"\b(?:cut|cutting|cuts|cuted|slit|slitting|slice|slicing|burn|burning|burnt|hurt|"
     rf"hurting|harm|harming|scratch|scratching|punish|punishing|starv\w+|hit|hitting|punch\w*|"
     rf"strangl\w+|choke|choking|stab|stabbing)\s+{_SELF}", "hurt myself"),
    (r"\bcut(?:ting|s)?\s+(?:my|me)\s+(?:wrists?|arms?|legs?|thighs?|skin|stomach|hips?)",
     "cut my arms"),
    (r"\b(?:self|slef|sefl|sel)[\s\-]*(?:harm\w*|injur\w*|hurt\w*|destruct\w*)|\bselfharm\w*", "self harm"),
    (r"\bsh\b", "sh"),
    (r"\b(?:cuts|scars|marks|bruises|burns)\s+(?:on|all\s+over)\s+my\s+(?:wrists?|arms?|"
     r"legs?|thighs?)", "cuts on my arms"),
    (r"\b(?:hang|hanging|hung)\s+(?:my\s*self|me|him\s*self|her\s*self|them\s*sel(?:f|ves))\b|\bnoose\b|\bligature\w*", "hanging"),
    (r"\bjump(?:ing|ed)?\s+(?:of+|from|in\s+front\s+of|under|into)\s+(?:a|the)?\s*(?:bridge|"
     r"building|roof|cliff|train|car|bus|lorry|river|sea|motorway|window|balcony|car\s+park)",
     "jump off / in front of"),
    (r"\bstep\s+in\s+front\s+of\s+(?:a|the)\s+(?:train|car|bus|lorry)", "step in front of"),
    (r"\bover\s*-?\s*dos\w*|\boverdoes\w*|\bo\.?d\b|\bod'?(?:d|ed|ing)\b", "overdose"),
    (r"\b(?:took|taken|take|taking|swallowed|swallow|downed|necked|stockpil\w*|saving\s+up|"
     r"hoard\w*)\s+(?:all\s+(?:of\s+)?|a\s+load\s+of\s+|loads\s+of\s+|lots\s+of\s+|a\s+(?:whole\s+)?"
     r"(?:bunch|handful|box|packet|pack|bottle)\s+of\s+|(?:my|mums?|dads?|the)\s+|a\s+lot\s+of\s+|"
     r"\d+\s+|too\s+many\s+|loads\s+)+(?:\w+\s+)?(?:pills|tablets|paracetamol|meds|"
     r"medication|painkillers|antidepressants|sleeping\s+pills)", "took pills"),
    (r"\b(?:pills|tablets|paracetamol|meds)\s+to\s+(?:end|die|sleep\s+forever|not\s+wake)",
     "pills to end"),
    (r"\b(?:sleep|go\s+to\s+sleep)\s+and\s+(?:never|not)\s+wake\s+up", "never wake up"),
    (r"\b(?:goodbye|suicide)\s+(?:note|letter|message)s?\b|\bwr(?:i|o)te\s+(?:a|my)\s+note\s+"
     r"(?:to|for)\s+(?:my|everyone)", "goodbye note"),
    (r"\bsaying\s+goodbye\s+to\s+everyone|\bsay\s+(?:my\s+)?goodbyes?\s+to\s+everyone",
     "saying goodbye"),
    (r"\bwant\s+(?:it|everything|the\s+pain)\s+(?:all\s+)?to\s+stop\s+(?:for\s+good|forever|"
     r"permanently)", "want it to stop for good"),
    (r"\b(?:thoughts?|thinking)\s+(?:of|about)\s+(?:ending|killing|hurting|harming|dying)",
     "thoughts of ending"),
    (r"\bdeath\s+wish|\bwant\s+to\s+be\s+with\s+(?:my\s+)?\w+\s+in\s+heaven", "death wish"),
    (r"\bnot\s+(?:going\s+to|gonna)\s+be\s+(?:here|around)\s+(?:much\s+longer|tomorrow|"
     r"by|for\s+long|anymore|any\s+more)", "not be here much longer"),
    (r"\b(?:can'?t|cannot)\s+(?:stop|resist)\s+(?:the\s+)?urges?\b|\burges?\s+to\s+(?:cut|hurt|"
     r"harm|die|end)", "urges"),
    (r"\brelaps\w*\s+(?:again|on|with)?\s*(?:sh|cutting|self)", "relapsed"),
    (r"\b(?:shouldn'?t|should\s+not|don'?t\s+deserve\s+to|do\s+not\s+deserve\s+to)\s+"
     r"(?:even\s+)?(?:exist|be\s+alive|be\s+here|live|be\s+born)\b", "shouldn't exist"),
    (r"\b(?:painless|quick|quickest|easiest|best)\s+way\s+to\s+(?:go|die|do\s+it|end\s+it|"
     r"kill)", "painless way to go"),
    (r"\bhow\s+many\s+(?:\w+\s+){0,2}(?:pills|tablets|paracetamol|meds|painkillers)\s+"
     r"(?:\w+\s+){0,4}(?:kill|die|not\s+wake|overdose|fatal|lethal|end)", "how many pills"),
    (r"\b(?:which|what)\s+(?:bridge|building|roof|cliff)\s+(?:is\s+)?(?:high|tall)", "which bridge is high enough"),
    (r"\b(?:rope|noose|pills|tablets|blade|razor)s?\s+(?:is\s+|are\s+)?(?:ready|sorted|hidden|saved)",
     "rope ready"),
    (r"\b(?:on|at)\s+the\s+edge\s+of\s+(?:the|a)\s+(?:roof|bridge|cliff|building|car\s+park|platform)"
     r"|\b(?:i'?m|i\s+am|standing|stood|sat|sitting)\s+on\s+(?:the|a)\s+(?:bridge|roof|ledge|"
     r"railway|tracks|cliff\s+edge)", "on the edge"),
    (r"\b(?:won'?t|will\s+not|don'?t\s+think\s+i'?ll|not\s+going\s+to|not\s+gonna)\s+(?:be\s+)?"
     r"(?:here|around|alive)\s+(?:next|by|tomorrow|much|for\s+long|after|this\s+time)",
     "won't be here next week"),
    (r"\bafter\s+i'?m\s+(?:gone|dead|not\s+here)|\bwhen\s+i'?m\s+gone\b", "after I'm gone"),
    (r"\b(?:world|everyone|everybody|they|family|people)\s+(?:would\s+)?(?:be\s+)?"
     r"(?:better|happier|easier)\s+(?:off\s+)?without\s+me", "better without me"),
    (r"\b(?:done|finished|fed\s+up)\s+with\s+(?:life|living|being\s+alive|existing|this\s+life)",
     "done with life"),
    (r"\b(?:my\s+)?(?:last|final)\s+(?:message|goodbye|night|day)\b(?=.{0,60}\b(?:thank|bye|sorry|"
     r"love|trying|alive|tonight)|\s*$)", "last message"),
    (r"\b(?:finally|going\s+to|gonna)\s+do\s+it\b(?=.{0,60}\b(?:tonight|made\s+up\s+my\s+mind|"
     r"goodbye|for\s+good|no\s+one\s+cares|nobody\s+cares|end))|\btonight'?s\s+the\s+night",
     "finally do it"),
    (r"\b(?:easier|better)\s+if\s+i\s+(?:just\s+)?(?:died|was\s+dead|were\s+dead|wasn'?t\s+"
     r"(?:here|alive|around)|disappeared|was\s+gone)", "easier if I died"),
    (r"\bimagin\w*\s+(?:my\s+)?(?:own\s+)?(?:funeral|death)", "imagining my funeral"),
    (r"\b(?:see|is|there'?s)\s+(?:no|the|any)?\s*point\s+(?:in|of)\s+(?:carrying\s+on\s+|going\s+on\s+)?"
     r"(?:living|being\s+alive|life|existing|being\s+here)", "point in living"),
    (r"\bneed\s+to\s+(?:cut|bleed|hurt\s+myself|feel\s+pain)", "need to cut"),
    (r"\b(?:walk|swim|drive|run)\s+(?:in)?to\s+(?:the|a)\s+(?:sea|river|water|road|traffic|wall|"
     r"canal|lake)\b", "walk into the sea"),
    (r"\bmade\s+a\s+plan\s+to\s+(?:die|end|kill|do\s+it)|\bplann\w*\s+(?:my|her|his)\s+(?:death|suicide)",
     "plan to die"),
    (r"\bcuts?\s+(?:that\s+)?i\s+(?:made|did|gave\s+myself)|\bscars\s+i\s+gave\s+myself",
     "cuts I made"),
    (r"\brather\s+(?:be\s+)?(?:dead|die)\b", "rather be dead"),
    (r"\bin\s+heaven\b(?=.{0,40})", "be in heaven"),
    (r"\b(?:ways?|how)\s+to\s+(?:die|kill\s+(?:my|your)self|end\s+(?:my|your)\s+life)", "ways to die"),
    (r"\b(?:sleep|go\s+to\s+sleep)\s+forever\b|\bdie\s+in\s+my\s+sleep", "sleep forever"),
    (r"\bdark\s+thoughts\b|\bnot\s+safe\s+from\s+my\s*self", "dark thoughts"),
    (r"\bdo\s+something\s+(?:stupid|bad|silly)\s+to\s+my\s*self", "do something to myself"),
    (r"\bno\s+(?:one|body)\s+(?:would|will)\s+(?:miss|notice|care)\b", "no one would miss me"),
    (r"\bwant\s+(?:out\s+of\s+(?:this\s+)?life|to\s+leave\s+(?:this\s+)?(?:life|world)|"
     r"(?:it|life|everything)\s+(?:to\s+be\s+)?over)", "want out of life"),
    (r"\b(?:stop|quit)\s+living\b|\bcan'?t\s+do\s+life\b", "stop living"),
    (r"\bend(?:ing)?\s+(?:it|everything)\s+tonight|\bthinking\s+(?:of|about)\s+ending\s+"
     r"(?:it|everything|things)|\bending\s+everything\b", "ending everything"),
    (r"\b(?:tired|sick)\s+of\s+(?:being\s+alive|living|life|existing)\b", "tired of living"),
    (r"\bfeel(?:ing)?\s+like\s+dying\b|\b(?:think|thinking|thought)\s+about\s+(?:not\s+being\s+"
     r"(?:alive|here|around)|dying|death)\b(?=.{0,60}\b(?:want|every|all\s+the\s+time|do\s+it))",
     "feel like dying"),
    (r"\bdisappear(?:ed|ing)?\s+(?:for\s+good|forever|and\s+never\s+come\s+back)", "disappear for good"),
    (r"\bg(?:i|a)ve(?:n)?\s+(?:all\s+)?(?:my|away\s+my)\s+(?:stuff|things|belongings)\s+away|"
     r"\bwon'?t\s+need\s+(?:it|them|my\s+\w+)\s+(?:after|any\s*more)", "giving things away"),
    (r"\b(?:i'?m|i\s+am|feel\s+like)\s+(?:such\s+)?a\s+burden\b", "I'm a burden"),
    (r"\bw(?:na|an)t\s+(?:to\s+)?die\b|\bcould\s+die,?\s+i\s+want\s+to", "want to die (typo)"),
    (r"\b(?:hate|hating)\s+my\s+life\b(?=.{0,40}\bend\s+it)", "hate my life, end it"),
    (r"\b(?:blades?|razors?)\b.{0,40}\b(?:my\s+(?:arm|wrist|leg|thigh)|cut|use|hide|hidden|"
     r"under\s+my)", "blades"),
]

_THIRD_PARTY_PATTERNS: list[tuple[str, str]] = [
    (rf"\b{_KILL}\s*{_OTHER_SELF}", "kill himself/herself"),
    (rf"\b(?:end|ending|ended)\s+(?:his|her|their)\s+(?:own\s+)?li(?:fe|ves)", "end her life"),
    (rf"\btak(?:e|ing|en)\s+(?:his|her|their)\s+(?:own\s+)?li(?:fe|ves)", "take his own life"),
    (rf"\b(?:cut|cutting|cuts|burn|burning|hurt|hurting|harm|harming|scratch\w*|starv\w*|"
     rf"hit+ing|strangl\w*|punish\w*)\s+{_OTHER_SELF}", "hurting herself"),
    (r"\b(?:cuts|scars|marks|scratches|burns|wounds|bandages|plasters)\s+(?:\w+\s+){0,2}"
     r"(?:on|all\s+over|up|across|down)\s+(?:my\s+\w+'?s|his|her|their|the\s+\w+'?s)\s+"
     r"(?:wrists?|arms?|legs?|thighs?|stomach|skin|body)", "cuts on her arms"),
    (r"\b(?:wants?|wanted|wanting|wanna|wishes|wished)\s+(?:to\s+)?(?:die|be\s+dead|"
     r"not\s+be\s+alive|not\s+exist|disappear\s+forever|not\s+wake\s+up)", "wants to die"),
    (r"\b(?:doesn'?t|does\s+not|didn'?t|don'?t)\s+(?:want|wanna)\s+to\s+(?:be\s+)?(?:here|alive|"
     r"live|living|exist|be\s+around|wake\s+up|go\s+on)", "doesn't want to be alive"),
    (rf"\b{_PERSON}\s+(?:\w+\s+){{0,3}}{_REPORT}\s+(?:\w+\s+){{0,4}}(?:about\s+)?(?:ending|"
     rf"killing|dying|death|not\s+being\s+(?:here|alive|around)|wanting\s+to\s+die|"
     rf"being\s+better\s+off\s+dead|disappearing\s+forever)", "talking about ending"),
    (r"\b(?:his|her|their)\s+(?:own\s+)?(?:death|funeral|suicide)\b(?!\s+(?:of|in\s+the\s+"
     r"family))", "her own death"),
    (r"\b(?:is|was|been|be|are)\s+better\s+of+\s+(?:dead|without\s+(?:him|her|them))", "better off dead"),
    (r"\bfound\s+(?:\w+\s+){0,3}(?:blades?|razors?|pencil\s+sharpener\s+blades|pills|"
     r"tablets|a\s+(?:note|rope|noose)|ropes?)\b", "found blades/pills/note"),
    (r"\b(?:he|she|they|son|daughter|child|pupil|student)\s+(?:\w+\s+){0,3}(?:took|has\s+taken|"
     r"had\s+taken|swallowed)\s+(?:\w+\s+){0,4}(?:pills|tablets|paracetamol|meds|medication)",
     "took pills (third party)"),
    (r"\b(?:is|was|has\s+been|been|keeps|kept|started|start)\s+(?:self[\s\-]*harm\w*|cutting|"
     r"sh)\b", "has been self harming"),
    (r"\b(?:no|any)\s+(?:reason|point)\s+(?:in\s+|to\s+)?(?:him|her|them)\s+(?:living|being\s+"
     r"alive|being\s+here)", "no point in her living"),
]

_DISCLOSURE_PATTERNS: list[tuple[str, str]] = [
    (r"\b(?:hits?|hitting|beats?|beating|beaten|beat\s+up|punch\w*|kicks?|kicking|kicked|"
     r"slaps?|slapping|slapped|smacks?|smacking|smacked|chok\w+|strangl\w+|burns?|burnt|"
     r"whips?|whipped|throws?\s+things\s+at|threw\s+things\s+at|hurts?|hurting|abus\w+|rap(?:e|ed|es|ing)|"
     r"molest\w*|grop\w+|touch(?:es|ed|ing)?|push(?:es|ed)?|shov\w+|bit|bites|lock(?:s|ed)?|"
     r"starv\w+|threaten\w*|film\w*|photograph\w*)\s+me\b", "hits me"),
    (r"\b(?:hit|beat|punched|kicked|slapped|hurt|abused|touched|raped|groped)\s+me\b",
     "hit me"),
    (r"\bgets?\s+(?:beaten|hit|hurt|abused|touched|locked\s+in)\b|\bi\s+(?:get|got|am|was|'m)\s+"
     r"(?:beaten|hit|hurt|abused|touched|raped|groped|molested|locked\s+(?:in|out))", "I get beaten"),
    (r"\b(?:scared|afraid|frightened|terrified|petrified|too\s+scared)\s+(?:to\s+go|of\s+going)\s+home\b",
     "scared to go home"),
    (r"\b(?:not|don'?t\s+feel|never\s+feel|isn'?t)\s+safe\s+(?:at|in\s+my)\s+(?:home|house)\b|"
     r"\bhome\s+(?:isn'?t|is\s+not)\s+safe", "not safe at home"),
    (r"\b(?:scared|afraid|frightened|terrified)\s+of\s+(?:my\s+)?(?:dad|mum|mom|father|mother|"
     r"stepdad|step\s+dad|stepmum|step\s+mum|uncle|aunt|brother|sister|carer|foster\s+\w+|"
     r"mum'?s\s+boyfriend|dad'?s\s+girlfriend|someone\s+(?:at|in)\s+(?:home|my\s+house))",
     "scared of stepdad"),
    (r"\b(?:makes?|made|forces?|forced|making)\s+me\s+(?:do\s+(?:things|stuff|sexual)|touch|"
     r"take\s+(?:off|my\s+clothes)|send\s+(?:pics|pictures|photos|nudes)|watch|keep\s+(?:it\s+)?"
     r"(?:a\s+)?secret)", "makes me do things"),
    (r"\b(?:sends?|sent|asks?|asked|asking)\s+me\s+(?:for\s+)?(?:nudes|naked|dirty|sexual|"
     r"inappropriate)", "sends me nudes"),
    (r"\b(?:sexual(?:ly)?\s+abus\w*|abus(?:e|ed|ing)\s+(?:at\s+home|me)|sexual\s+things|"
     r"inappropriate(?:ly)?\s+touch\w*|touch\w*\s+me\s+(?:there|inappropriately|down\s+there)|"
     r"private\s+parts)", "sexual abuse"),
    (r"\b(?:says?|said|told\s+me)\s+(?:not\s+to\s+tell|i\s+can'?t\s+tell|it'?s\s+our\s+secret)|"
     r"\bour\s+(?:little\s+)?secret\b", "not to tell"),
    (r"\blocks?\s+me\s+(?:in|out)|\blocked\s+(?:me\s+)?in\s+my\s+room|\bno\s+food\s+(?:at\s+home|"
     r"for\s+days)|\bnot\s+(?:allowed|given)\s+(?:to\s+)?(?:eat|food)", "locked in / no food"),
    (r"\b(?:bruises?|marks|injuries|burns)\s+(?:from|because\s+of|caused\s+by)\s+(?:my|his|her|"
     r"their)\s+\w+", "bruises from dad"),
    (r"\b(?:being|been|was|is|are)\s+(?:abused|groomed|neglected|beaten)\b|\bgroom(?:ed|ing)\b",
     "being abused"),
    (r"\b(?:domestic\s+(?:abuse|violence))\b(?=.{0,60}\b(?:home|house|me|us|my|we)\b)",
     "domestic abuse"),
    # Someone with power over a child harming them, as the child or an adult says it.
    (r"\b(?:dad|daddy|mum|mummy|mom|father|mother|step\s*(?:dad|mum|father|mother)|"
     r"grand(?:dad|pa|father|ad|ma|mother|mum)|nan|uncle|aunt|auntie|cousin|brother|carer|"
     r"foster\s+\w+|partner|boyfriend|girlfriend|babysitter|neighbour|coach|priest|adult|"
     r"grown\s*up|man|woman|teacher|someone|somebody|staff|childminder)'?s?\s+(?:\w+\s+){0,3}"
     r"(?:hurts|hurt|hits|hit|touches|touched|abuses|abused|beats|beat|burns|burnt|burned|kicks|"
     r"kicked|punches|punched|slaps|slapped|chokes|choked|strangles|strangled|rapes|raped|"
     r"molests|molested|locks|locked|starves|starved)\s+(?:me|him|her|them)\b", "adult hurts"),
]

_MASKS: list[str] = [
    r"\bsuicide\s+(?:prevention|awareness)(?:\s+(?:policy|policies|training|week|day|month|"
    r"strategy|lessons?|charity|month|leaflet|plan\s+for\s+(?:the\s+)?school))?",
    r"\b(?:is|are|was|'s|it'?s|this|that|they'?re|forms?|paperwork|deadline|wait|waiting)\s+"
    r"(?:\w+\s+){0,2}killing\s+me\b",
    r"\bdying\s+of\s+(?:embarrassment|shame|laughter|boredom|curiosity)\b",
    r"\bdying\s+(?:to|for)\s+(?:start|go|see|get|know|try|hear|meet|join|be)\b",
    r"\b(?:hits?|hitting|bangs?|banging|bites?|biting|scratch(?:es|ing)?|pinch(?:es|ing)?)\s+"
    r"(?:his|her|their)\s+(?:own\s+)?(?:head|hands?|arms?|legs?|face|chest|self)\b",
    r"\bmy\s+(?:son|daughter|child|kid|boy|girl|pupil|student|toddler|twins?)\s+(?:\w+\s+){0,2}"
    r"(?:hits?|kicks?|bites?|scratch(?:es)?|pinch(?:es)?|punch(?:es)?|hurts?|headbutts?|lashes\s+out\s+at)"
    r"\s+me\b",
    r"\b(?:hurt|hurts|hurting)\s+(?:me\s+)?(?:to\s+)?(?:see|watch|hear|think)\b",
    r"\bbored\s+to\s+death\b|\bscared\s+to\s+death\b|\bworried\s+to\s+death\b",
    r"\btouch(?:es|ed)?\s+me\s+on\s+the\s+(?:arm|shoulder)\s+to\s+get\s+my\s+attention",
    r"\b(?:i'?ll|i\s+will|i\s+could)\s+kill\s+(?:him|her|them)\s+if\b",
    r"\bsend\s+(?:him|her|them)\s+home\b",
]


def _compile(patterns: Iterable[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p, re.IGNORECASE), label) for p, label in patterns]


_CRISIS_RE = _compile(_CRISIS_PATTERNS)
_THIRD_RE = _compile(_THIRD_PARTY_PATTERNS)
_DISCLOSURE_RE = _compile(_DISCLOSURE_PATTERNS)
_MASK_RE = [re.compile(p, re.IGNORECASE) for p in _MASKS]
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;\n])\s+|\s+(?:but|and\s+then|so)\s+")

# The curated phrase sets for the semantic layer. They are written for this
# project; none of them is in the test sets.
CRISIS_PHRASES: tuple[str, ...] = (
    "I feel like killing myself",
    "I want to end my life",
    "I am going to take my own life",
    "I don't want to be alive any more",
    "I wish I were not alive",
    "I would rather die than keep living",
    "I can't see any way out except dying",
    "I have been thinking about suicide",
    "I feel suicidal",
    "I have made a plan to end things",
    "I am hurting myself on purpose",
    "I have been cutting my arms",
    "I keep self harming",
    "I have taken too many pills",
    "everyone would be happier if I was gone",
    "I am a burden and should not be here",
    "there is no way out and I want to disappear for good",
    "I am saying goodbye to everyone",
    "I can't cope with being alive",
    "life is not worth living",
    "I want to go to sleep and not wake up",
    "I have given away my things because I won't need them",
    "I don't see a future for myself at all",
    "nobody would miss me if I was gone",
    "I am going to jump",
    "I want to stop existing",
    "my child says he wants to die",
    "my daughter has been cutting herself",
    "my son is talking about killing himself",
    "a pupil told me she wants to end her life",
    "I found marks on my child's wrists",
    "my teenager has been searching how to kill themselves online",
    "she says she will not be around much longer",
    "he has tried to hang himself",
    "my daughter took an overdose",
    "I think my son is suicidal",
    "my child wants to hurt himself",
    "the pain is too much and I want it to be over forever",
    "I have had enough of living",
    "I am planning how to do it tonight",
)

DISCLOSURE_PHRASES: tuple[str, ...] = (
    "a person I live with hurts me",
    "my dad hits me",
    "my stepdad beats me",
    "my mum hurts me when she is angry",
    "an adult touched me and I didn't like it",
    "someone touches me in my private places",
    "I am scared to go home",
    "I do not feel safe in my own home",
    "my uncle abuses me",
    "an older boy made me send pictures",
    "a grown up told me to keep a secret about touching",
    "my parents lock me in my room",
    "I get hit with a belt",
    "I have bruises because my dad hurt me",
    "my carer doesn't give me food",
    "my mum's boyfriend hurts me",
    "my brother hurts me and says not to tell",
    "a teacher touched me inappropriately",
    "my son told me his dad hits him",
    "a pupil said her stepdad hurts her",
    "I am being abused",
    "someone online is asking me for photos",
    "there is violence at home and I am frightened",
    "my coach touches me and I want it to stop",
)


@dataclass(frozen=True)
class SafetyResult:
    """What the check found.

    Attributes:
        kind: ``"crisis"``, ``"disclosure"`` or ``"none"``.
        layer: ``"phrase"``, ``"third_party"``, ``"semantic"`` or ``""`` for none.
        evidence: The matched text, or the nearest curated phrase and its score.
        score: 1.0 for a pattern match, the cosine similarity for the semantic layer.
    """

    kind: str
    layer: str = ""
    evidence: str = ""
    score: float = 0.0

    @property
    def flagged(self) -> bool:
        """True when the message must get crisis or safeguarding routes."""
        return self.kind != NONE


NOT_FLAGGED = SafetyResult(NONE)


def normalise(text: str) -> str:
    """Lower-case, straighten quotes and squash whitespace, keeping words intact."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.lower()
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)  # "sooooo" -> "soo", "killll" -> "kill"
    text = re.sub(r"[\u200b-\u200f]", "", text)
    text = re.sub(r"[_*~|]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _masked(text: str) -> str:
    for mask in _MASK_RE:
        text = mask.sub(" ", text)
    return text


def _first(patterns: list[tuple[re.Pattern[str], str]], text: str) -> tuple[str, str] | None:
    for pattern, label in patterns:
        match = pattern.search(text)
        if match:
            return label, match.group(0).strip()
    return None


def check_patterns(text: str) -> SafetyResult:
    """The two pattern layers only (no model): phrase, then third party.

    Args:
        text: The message as the person wrote it.

    Returns:
        The first crisis match, else the first disclosure match, else none.
    """
    clean = _masked(normalise(text))
    for layer, patterns in (("phrase", _CRISIS_RE), ("third_party", _THIRD_RE)):
        hit = _first(patterns, clean)
        if hit:
            return SafetyResult(CRISIS, layer, f"{hit[0]}: {hit[1]!r}", 1.0)
    hit = _first(_DISCLOSURE_RE, clean)
    if hit:
        return SafetyResult(DISCLOSURE, "phrase", f"{hit[0]}: {hit[1]!r}", 1.0)
    return NOT_FLAGGED


def sentences(text: str) -> list[str]:
    """The message split into short pieces for the semantic layer."""
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(normalise(text)) if p and p.strip()]
    parts = [p for p in parts if len(p) > 2]
    if len(parts) > _MAX_SENTENCES:  # keep the ends and the middle of very long messages
        step = len(parts) / _MAX_SENTENCES
        parts = [parts[int(i * step)] for i in range(_MAX_SENTENCES)]
    whole = normalise(text)
    if whole and whole not in parts and len(whole) < 300:
        parts.append(whole)
    return parts


_phrase_lock = threading.Lock()


@lru_cache(maxsize=1)
def _phrase_vectors():  # type: ignore[no-untyped-def]
    from bot.embeddings import embed

    with _phrase_lock:
        return embed(list(CRISIS_PHRASES)), embed(list(DISCLOSURE_PHRASES))


def warm_up() -> None:
    """Load the embedding model and embed the phrase sets now, not on a message."""
    _phrase_vectors()


def semantic_scores(text: str) -> tuple[float, str, float, str]:
    """Best cosine similarity of any piece of the message to each phrase set.

    Returns:
        (crisis score, nearest crisis phrase, disclosure score, nearest disclosure phrase)
    """
    from bot.embeddings import embed

    pieces = sentences(text)
    if not pieces:
        return 0.0, "", 0.0, ""
    crisis_vecs, disclosure_vecs = _phrase_vectors()
    vectors = embed(pieces)
    crisis = vectors @ crisis_vecs.T
    disclosure = vectors @ disclosure_vecs.T
    ci = divmod(int(crisis.argmax()), crisis.shape[1])
    di = divmod(int(disclosure.argmax()), disclosure.shape[1])
    return (
        float(crisis[ci]), CRISIS_PHRASES[ci[1]],
        float(disclosure[di]), DISCLOSURE_PHRASES[di[1]],
    )


def check(text: str, semantic: bool = True) -> SafetyResult:
    """Decide whether a message needs crisis or safeguarding routes.

    Args:
        text: The message as the person wrote it (any length; empty is fine).
        semantic: Also run the MiniLM similarity layer (off for pattern-only use).

    Returns:
        A SafetyResult; ``result.flagged`` is True for crisis and disclosure.
    """
    if not text or not text.strip():
        return NOT_FLAGGED
    result = check_patterns(text)
    if result.kind == CRISIS or not semantic:
        return result
    crisis, crisis_phrase, disclosure, disclosure_phrase = semantic_scores(text)
    if crisis >= CRISIS_THRESHOLD:
        return SafetyResult(CRISIS, "semantic", f"like {crisis_phrase!r}", crisis)
    if result.kind == DISCLOSURE:
        return result
    if disclosure >= DISCLOSURE_THRESHOLD:
        return SafetyResult(DISCLOSURE, "semantic", f"like {disclosure_phrase!r}", disclosure)
    return NOT_FLAGGED
