"""The allow-list: annotation text that modalities burn into images and that identifies nobody.

Why it exists: the small spaCy model tags isolated capitalised words as ORG or PERSON
("ABDOMEN" -> ORG, "AP" -> ORG, "CORONAL" -> ORG, "SAG T1" -> PERSON, "US" -> GPE), and
the rules must not read acquisition parameters as identifiers. The false-positive budget is
tight (at most 20% of images without PII may be flagged), so every word here is one that
was seen, or is routinely shown, on real CT, MR, US, CR/DX, MG, NM/PET, XA/RF images.

What it holds:
- SAFE_WORDS: lower-case words (orientation and view labels, patient positions, anatomy,
  sequence and protocol names, units, parameter labels, modality codes, vendor names);
- SAFE_TOKEN: one compiled regex for parameter tokens ("W:400", "L:40", "120kVp", "5.0mm",
  "Se:3", "Im:45/120", "x1.5", "3.0T", "b1000", "T2", "C+").

How it is used (pii/judge.py, pii/rules.py): a NER entity whose tokens are all safe, short or
not alphabetic is ignored; a DICOM-style name whose parts are both safe is not a name; a
header name part that is a safe word ("HEAD^PHANTOM", "OB^^^") is not searched for.

Adding a word: a safe word only silences an entity made of nothing but safe, short or
non-alphabetic tokens, so "John Power" is still a PERSON although "power" (Doppler) is
listed. Still, leave out words that are common surnames or place names on their own
("Ward", "Page", "Dixon", "Reading"). Hospital words ("Hospital", "Clinic") are only
LABEL_WORDS: "Hospital" alone is nothing, "Ninewells Hospital" is still an ORG.
"""
from __future__ import annotations

import re

_ORIENTATION = """
l r a p h f s i ap pa lat lateral lao rao lpo rpo obl oblique ax axial cor coronal sag sagittal
tra trans transverse ant anterior post posterior sup superior inf inferior med medial
left right rt lt bilat bilateral prox proximal dist distal frontal front back dorsal ventral
cc mlo ml lm xccl xccm at spot mag magnified tan tangential cran caud cranial caudal
lld rld dec decub decubitus upright erect standing sitting supine prone hfs ffs hfp ffp
hfdr hfdl ffdr ffdl recumbent view views projection pos position
"""

_ANATOMY = """
head neck chest thorax thoracic abdomen abdo abd abdominal pelvis pelvic spine spinal
cervical lumbar sacral sacrum coccyx brain skull sinus sinuses orbit orbits face facial
mandible maxilla teeth dental tmj iam pituitary heart cardiac coronary aorta aortic liver
hepatic kidney kidneys renal bladder prostate uterus ovary ovaries breast breasts lung lungs
pulmonary hip hips knee knees ankle ankles foot feet hand hands wrist wrists elbow elbows
shoulder shoulders arm arms leg legs femur tibia fibula humerus radius ulna clavicle
scapula rib ribs sternum finger fingers thumb toe toes heel calcaneus patella shin thigh
forearm pelvic gallbladder pancreas spleen bowel colon stomach thyroid carotid vessel
vessels artery arteries vein veins venous arterial soft tissue tissues bone bones joint
joints extremity extremities whole body limb limbs lower upper cspine tspine lspine
gb cbd ivc svc lv rv la ra fetal fetus foetal foetus placenta cervix ovar
trachea larynx pharynx esophagus oesophagus tongue parotid submandibular lymph node nodes
axilla groin testis testes scrotum appendix meniscus menisci rotator cuff humeral acetabulum
sacroiliac scoliosis jugular femoral popliteal calf achilles mediastinum mediastinal hilar
orbital temporal frontal parietal occipital cerebellum ventricle ventricles
"""

_PROTOCOL = """
ct mr mri us cr dx mg nm pt pet spect xa rf ot dr io px op es sr rt
scout topogram localizer localiser survey routine standard std helical spiral axial
contrast pre post non con noncon enhanced delayed arterial venous portal phase phases
recon reconstruction mpr mip minip vr volume thin thick slice slices slab
flair stir dwi adc swi gre fse tse se ir epi dti bold mra mrv tof pd pdw t1 t2 t1w t2w
fs fatsat fat sat water inphase outphase haste trufi fiesta bravo vibe space cube
gad gado perfusion diffusion spectroscopy cine loop seq sequence series image images img
ser im study exam scan scanned acq acquisition frame frames
portable mobile theatre ed icu ane resus trauma follow up fu screening diagnostic
biopsy guided needle marker markers clip clips stent line lines tube tubes
doppler color colour pw cw cfm power harmonic thi gain depth freq frq frequency dr db
mi ti tis tib tic fps hz khz mhz prf wf filter bmode mmode b m mode probe
dose dlp ctdi ctdivol mgy mgycm ssde kv kvp ma mas ms sec s mm cm m mmhg bpm
w l c wl ww wc ld lw window level center centre width zoom fov matrix pitch rot kernel
tr te ti fa nex etl bw tra sl st thk thickness gap spacing pixel pixels res resolution
sl sp loc location table tbl pos dfov sfov qc ref reference calib calibration
phantom comparison prior report store print measure dist area vol vel towne townes waters
caldwell mortise skyline sunrise tunnel swimmers stryker
r1 r2 r3 r4 l1 l2 l3 l4 l5 t1 t2 s1 s2 c1 c2 c3 c4 c5 c6 c7
"""

_ULTRASOUND = """
adult pediatric paediatric peds neonatal neonate obstetric obstetrics ob gyn gyne echo
echocardiography vascular abdominal small parts msk msuskel mscskel musculoskeletal superficial
asc desc ao diam index low high med medium pen hpen gen res cist dyn persist rej
frz freeze pwr cfi cpa dpi tgc ag ma rs focus foci harm harmonic gn rate gated trace
"""

_VENDORS = """
siemens healthineers ge healthcare philips toshiba canon hitachi fujifilm fuji agfa carestream
kodak hologic samsung medison mindray esaote konica minolta shimadzu varian elekta
medical systems system healthcare medsystems lightspeed revolution optima discovery somatom
definition force sensation emotion avanto aera skyra prisma vida verio espree trio
ingenia achieva intera brilliance iqon aquilion vantage titan logiq voluson vivid
epiq affiniti acuson sequoia aplio xario senographe selenia dimensions mammomat
"""

_GENERAL = """
the and of with for without to in on at by or no yes not na n/a none
patient pt name id dob age sex male female date time tech technologist operator
mr mrs ms miss mx dr prof doctor consultant ref referring physician
accession acc mrn hosp hospital no number study series instance exam
clinic clinics infirmary university trust nhs department dept radiology imaging unit
km kg lbs cm2 mm2 ml cc sv cm/s mm/s m/s
"""

SAFE_WORDS: frozenset[str] = frozenset(
    word
    for block in (_ORIENTATION, _ANATOMY, _PROTOCOL, _ULTRASOUND, _VENDORS)
    for word in block.split()
)
"""Words that, alone or together, never identify a person. Lower case."""

LABEL_WORDS: frozenset[str] = frozenset(_GENERAL.split())
"""Field labels and filler ("Patient", "Name", "DOB", "Hospital", "No"): not identifying by
themselves, but text that holds them may well hold PII next to them, so they only make an
entity token meaningless, they do not make a whole text safe."""

UNITS: frozenset[str] = frozenset("""
mm cm m um km ms s sec min hz khz mhz db kv kvp ma mas mgy mgycm gy bpm fps ml cc kg lbs g mmhg
deg mt t
""".split())
"""Units written after a number (`5 mm`, `120 kVp`, `20Hz`). Lower case."""

VALUE_LABELS: frozenset[str] = frozenset("""
se ser im img ima w l c wl ww wc kv kvp ma mas ms tr te ti fa et etl st sl thk fov dfov sfov
gain depth dr prf fps mi tis tib tic fr frame zoom id dob age sex nhs chi mrn acc ref no tilt
pos loc dist area vol vel hr rate freq frq db ex acq mag
""".split())
"""Labels written before a value (`Se:3`, `W:400`, `kVp 120`, `DOB 12.03.1950`,
`Ref DOE^JOHN`). Lower case."""

SCREEN_WORDS: frozenset[str] = SAFE_WORDS | LABEL_WORDS | UNITS | VALUE_LABELS
"""Every word above: what a screen writes besides its values (ocr/labels.py, ocr/expected.py)."""

# Parameter tokens: a value with an optional label and unit, ratios, windows, counters.
SAFE_TOKEN = re.compile(
    r"""^(?:
        [-+]?\d+(?:[.,]\d+)?(?:[a-z%°"']{0,5}|/s|/cm)?          # 120  5.0mm  3.0T  45%  1.5x
      | [a-z]{1,4}[:=]?[-+]?\d+(?:[.,]\d+)?[a-z%]{0,4}            # W:400 L:40 Se:3 Im:45 T2 b1000 x1.5
      | [a-z]{1,4}[:=]?\d+(?:[.,]\d+)?/\d+(?:[.,]\d+)?            # Im:45/120  W/L-like ratios
      | \d+(?:[.,]\d+)?[x*:/]\d+(?:[.,]\d+)?[a-z]{0,3}              # 512x512  400/40  1:1
      | [a-z]{1,3}/[a-z]{1,3}                                       # W/L  Se/Im  L/R
      | [a-z]{1,4}[+-]                                              # C+  C-  T1+
      | [^a-z0-9]+                                                  # punctuation, | — etc.
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

_EDGE_PUNCT = "\"'“”‘’`.,;:!?()[]{}<>|"


def strip_punct(token: str) -> str:
    """The token without the punctuation OCR and typography put around words."""
    return token.strip(_EDGE_PUNCT)


def is_safe_token(token: str) -> bool:
    """True when the token is an allow-listed word or an acquisition-parameter token."""
    bare = strip_punct(token)
    if not bare:
        return True
    low = bare.lower()
    if low in SAFE_WORDS or SAFE_TOKEN.match(low):
        return True
    # "W:400" style pairs glued by OCR, "kVp120": every alphabetic part safe, digits aside.
    parts = [p for p in re.split(r"[^a-z]+", low) if p]
    return bool(parts) and all(p in SAFE_WORDS for p in parts) and any(ch.isdigit() for ch in low)


def is_safe_text(text: str) -> bool:
    """True when every whitespace-separated token of text is safe (an annotation-only text)."""
    return all(is_safe_token(token) for token in text.split())
