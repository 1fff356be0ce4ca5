"""Common given names, for the one case where both NER and the other rules fail: names in
capitals with no DICOM separator ("SARAH CONNOR", "SMITH JOHN"), which the small spaCy model
does not tag at all.

A curated list (English-speaking countries' most frequent given names plus common names
from South Asian, Hispanic, Chinese, Arabic and African naming traditions seen in UK and
US hospitals), four letters or more, leaving out every name that is also an English or
medical word (Mark, Will, May, June, Grace, Rose, Dawn, Faith, Frank, Bill, Chase...) so an
annotation never matches. A match written with a capital (`SARAH`, `Sarah`; rules.find_given_names)
flags the text with reason "given-name".
"""
from __future__ import annotations

GIVEN_NAMES: frozenset[str] = frozenset("""
aaron abdul abdullah abena abigail adam adebayo adrian agnes ahmed aidan ailsa aisha aisling
alan alana alasdair albert alex alexander alexandra alexis alfie alfred alice alicia alison
alistair allan amanda amelia amina amir amit andrea andrew angela anil anita anjali anna
anne annie anthony antonio archie arjun arthur ashley asif audrey ayesha barbara barry
beatrice benjamin bernard beth bethany betty beverley beverly billy bobby brandon brenda
brian bridget brittany bruce bryan caitlin callum cameron carl carlos carmen carol caroline
carolyn catherine catriona cecilia charles charlie charlotte cheryl chinedu chloe christina
christine christopher claire clara colin colleen connor craig cynthia daniel daniela
danielle david deborah debra declan deepak denise dennis derek diana diane dolores donald
donna doris dorothy douglas duncan dylan edith edward eileen eilidh elaine eleanor elena
elijah elizabeth ellen ellie emily emma eric ethan ethel euan eugene evelyn ewan fatima
fergus fiona florence frances francesca francis gabriel gareth gary gemma george georgia
gerald gillian gladys gloria gordon graham gregory hamish hannah harold harriet harry hassan
heather helen henry hussain hussein iain ibrahim imran irene isabel isabella isla jacob
jacqueline james jamie jane janet janice jasmine jason javier jean jeffrey jennifer jeremy
jerry jesse jessica joan joanna joanne john jonathan jordan jorge joseph joshua joyce juan
judith judy julia julie justin karen katherine kathleen kathryn katie kayla keith kelly
kenneth kevin khalid kieran kimberly kirsten kirsty kofi kwame kyle lachlan larry laura
lauren lawrence leah leonard leslie liam linda lindsay lisa logan lori lorna lorraine louis
louise lucas lucy luis lynn margaret maria marie marilyn marion marjorie martha martin mary
matthew maureen megan melissa mhairi michael michelle mohammad mohammed moira morag muhammad
mustafa nancy naomi natalie nathan neha neil ngozi niamh nicholas nicola nicole noah norman
oliver olivia oluwaseun omar oscar owen pamela patricia patrick paul paula pauline peter
philip pooja priya rachel rahul rajesh ralph ramesh randy ravi raymond rebecca richard
robert robin roger ronald rory rosemary russell ruth ryan samantha samuel sandra sanjay sara
sarah scott sean shannon sharon sheila shirley shona siobhan sophia sophie stephanie stephen
steven stuart sunil sunita suresh susan suzanne sylvia tanya tariq teresa terry theresa
thomas timothy tracey tracy trevor tyler valerie vanessa victoria vijay vincent walter wayne
wendy william willie yasmin yusuf zachary zainab zara
""".split())


def is_given_name(token: str) -> bool:
    return len(token) >= 4 and token.lower() in GIVEN_NAMES
