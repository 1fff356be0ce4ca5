"""Common given names, for the one case where both NER and the other rules fail: names in
capitals with no DICOM separator ("SARAH CONNOR", "SMITH JOHN"), which the small spaCy model
does not tag at all.

A curated list (English-speaking countries' most frequent given names plus common names
from South Asian, Hispanic, Chinese, Arabic and African naming traditions seen in UK and
US hospitals), four letters or more, leaving out every name that is also an English or
medical word (Mark, Will, May, June, Grace, Rose, Dawn, Faith, Frank, Bill, Chase...) so an
annotation never matches. A match flags the text with reason "given-name".
"""
from __future__ import annotations

GIVEN_NAMES: frozenset[str] = frozenset("""
aaron abdul abdullah abigail adam adrian agnes ahmed aidan aisha aisling alan alana albert
alex alexander alexandra alexis alfie alfred alice alicia alison allan amanda amelia amir
amit andrea andrew angela anita anna anne annie anthony antonio archie arthur ashley audrey
barbara barry beatrice benjamin bernard beth bethany betty beverley brandon brenda brian
bridget bruce caitlin callum cameron carl carlos carmen caroline catherine cecilia charles
charlie charlotte chloe christine christopher claire clara colin connor craig cynthia daniel
daniela danielle david deborah debra declan denise dennis derek diana diane dolores donald
donna dorothy douglas duncan dylan edward eileen elaine eleanor elena elijah elizabeth ellen
ellie emily emma eric ethan eugene evelyn fatima fergus fiona florence francesca francis
gareth gary gemma george georgia gerald gillian gloria gordon graham gregory hannah harold
harriet harry heather helen henry hussain isabel isabella isla jacob jacqueline james jamie
janet janice jasmine jason javier jeffrey jennifer jeremy jessica joan joanna joanne john
jonathan jordan jorge joseph joshua joyce juan judith julia julie justin karen katherine
kathleen kathryn katie keith kelly kenneth kevin kieran kimberly kirsty laura lauren leah
leonard leslie liam linda lindsay lisa logan lorna louise lucas lucy luis lynn maria marie
marion martha martin mary matthew maureen megan melissa michael michelle mohammad mohammed
muhammad nancy naomi natalie nathan neil niamh nicholas nicola nicole noah norman oliver
olivia oscar owen pamela patricia patrick paul paula pauline peter philip priya rachel rahul
rajesh raymond rebecca richard robert robin roger ronald rory rosemary ruth ryan samantha
samuel sandra sarah scott sean shannon sharon sheila shirley siobhan sophia sophie stephanie
stephen steven stuart susan suzanne sylvia tanya teresa theresa thomas timothy tracey tracy
trevor valerie vanessa victoria vincent walter wayne wendy william yasmin yusuf zachary zara
""".split())


def is_given_name(token: str) -> bool:
    return len(token) >= 4 and token.lower() in GIVEN_NAMES
