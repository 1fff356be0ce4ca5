"""judge() with the real spaCy model on hand-built OCR boxes: what is flagged, which boxes,
and that the annotations modalities burn into images are left alone."""
from __future__ import annotations

import pytest

from scp_scanner.model import InstanceInfo, TextBox, Verdict
from scp_scanner.pii.judge import entity_counts, is_meaningful_token, judge
from scp_scanner.pii.spacy_engine import SpacyEngine

HEADER = InstanceInfo(
    filename="x.dcm",
    identifiers=(
        ("PatientName", "DOE^JOHN"),
        ("PatientID", "AB123456"),
        ("AccessionNumber", "ACC0042"),
        ("PatientBirthDate", "19610312"),
        ("StudyDate", "20230105"),
        ("InstitutionName", "Ninewells Hospital"),
        ("ReferringPhysicianName", "BROWN^ALICE"),
    ),
)
NO_HEADER = InstanceInfo(filename="y.dcm")


@pytest.fixture(scope="module")
def ner() -> SpacyEngine:
    return SpacyEngine()


def boxes(*texts: str) -> list[TextBox]:
    """Boxes laid out left to right on one line, as OCR would give them."""
    out, x = [], 10
    for text in texts:
        out.append(TextBox(text, x, 10, x + 8 * len(text), 24, confidence=90.0))
        x += 8 * len(text) + 12
    return out


def reasons_start(verdict: Verdict, prefix: str) -> bool:
    return any(reason.startswith(prefix) for reason in verdict.reasons)


# Text seen on real CT, MR, US, CR/DX, MG and NM images that identifies nobody.
SAFE_ANNOTATIONS = [
    "L", "R", "AP", "PA", "LAT", "120 kVp", "250 mAs", "200 mA", "W/L", "WL 40 WW 400",
    "W:400 L:40", "Se/Im", "Se:3 Im:45", "5.0 mm", "DFOV 35.0 cm", "HFS", "FFS", "SUPINE",
    "PRONE", "ABDOMEN", "CHEST", "HEAD", "C+", "CT", "MR", "US", "Tilt: 0.0", "Zoom: 1.2",
    "TR: 4500 TE: 90", "T2 TSE TRA", "FOV 230*230", "SL 5.0", "FLAIR AX", "Mag 1.0",
    "Frq 5.0 MHz Gn 50 D 16cm", "MI 1.2 TIb 0.4", "LIVER", "RT KIDNEY", "PW 2.5MHz",
    "PA ERECT", "PORTABLE SUPINE", "KNEE RIGHT", "HAND LEFT", "L CC", "R MLO", "ANT",
    "POST", "WHOLE BODY", "SIEMENS", "GE MEDICAL SYSTEMS", "Philips Medical Systems",
    "TOSHIBA Aquilion", "Image 12/120", "Ax T1 +C", "SAG T2", "COR STIR", "DWI b1000",
    "MR BRAIN T2 FLAIR", "US LIVER", "CORONAL", "Thk 5mm Pitch 1.375", "Gain 50% Depth 16 cm",
    "Heart rate 72 bpm", "Power Doppler", "Scout", "Topogram", "CT ABDOMEN PELVIS C+",
]


SAFE_ANNOTATIONS += [
    "Phantom", "Trachea", "Larynx", "Tongue", "Meniscus", "Comparison", "Towne view",
    "CT HEAD W/O CONTRAST", "Slice 12/40", "Time: 12:30:45", "Kernel B30f", "Window 400/40",
    "LEFT KNEE 2 VIEWS", "R LAT DECUB", "EI 350", "DAP 1.2 dGycm2", "Frame 12 of 120",
    "Protocol: Routine Brain", "Dist 2.3 cm", "PI 1.2 RI 0.7", "L4-L5", "C5/6", "L4 5MM",
    "Adult Echo TIS0.4 MI 1.4", "Asc Ao Diam 3.3 cm", "Gen OB C5-1 Cist",
    # a document's or device's own date (pydicom's SMPTE test pattern files, mlut_18.dcm)
    "SMPTE TEST PATTERN Rev. 3/1/91", "Software Version 2/14/2003",
]


@pytest.mark.parametrize("text", SAFE_ANNOTATIONS)
def test_safe_annotations_are_not_flagged(ner, text):
    for info in (HEADER, NO_HEADER):
        whole = judge(boxes(text), info, ner)
        split = judge(boxes(*text.split()), info, ner)
        assert not whole.sensitive, whole.reasons
        assert not split.sensitive, split.reasons
        assert not any(split.box_sensitive)


def test_a_whole_screen_of_annotations_is_not_flagged(ner):
    verdict = judge(boxes("L", "R", "AP", "120 kVp", "W:400 L:40", "Se:3 Im:45", "ABDOMEN",
                          "HFS", "5.0 mm", "SIEMENS"), HEADER, ner)
    assert verdict == Verdict((False,) * 10, False, ())


@pytest.mark.parametrize("noise", [("ll",), ("|",), ("—",), ("Ae",), ("ll", "|", "—", "Ae"),
                                   ("ee", "a:", "=="), ("Wrkt",), ("lIl",), ("..",)])
def test_ocr_noise_is_not_flagged(ner, noise):
    assert not judge(boxes(*noise), HEADER, ner).sensitive


def test_no_text_is_not_sensitive(ner):
    assert judge([], HEADER, ner) == Verdict((), False, ())
    assert judge(boxes(" "), HEADER, ner) == Verdict((False,), False, ())


# ----------------------------------------------------------------------------- PII found

@pytest.mark.parametrize("text, reason", [
    ("John Smith", "ner:PERSON"),
    ("Patient: Robert Brown", "ner:PERSON"),
    ("Emily Watson", "ner:PERSON"),
    ("Ninewells Hospital", "ner:ORG"),
    ("Royal Infirmary of Edinburgh", "ner:ORG"),
    ("Los Angeles", "ner:LOC"),
    ("Katherine", "given-name"),
    ("Dr Patel", "titled-name"),
    ("12 High Street, Dundee", "address"),
    ("DD1 9SY", "postcode"),
    ("DOE^JOHN", "dicom-name"),
    ("SMITH“JANE", "dicom-name"),
    ("SARAH WHITTAKER", "given-name"),
    ("DOB 12/03/1961", "date"),
    ("Exam 2023-01-05", "date"),
    ("05 Jan 23", "date"),
    ("MRN 1234567", "id"),
    ("NHS 943 476 5919", "nhs"),
    ("CHI 1203611234", "chi"),
])
def test_pii_without_header_help_is_flagged(ner, text, reason):
    verdict = judge(boxes(text), NO_HEADER, ner)
    assert verdict.sensitive and verdict.box_sensitive == (True,)
    assert reasons_start(verdict, reason), verdict.reasons


@pytest.mark.parametrize("text, reason", [
    ("AB l234S6", "header:PatientID"),
    ("ACCOO42", "header:AccessionNumber"),
    ("12 O3 1961", "header:PatientBirthDate"),
    ("12-MAR-61", "header:PatientBirthDate"),
    ("05.01.2023", "header:StudyDate"),
    ("NINEWELLS", "header:InstitutionName"),
    ("Doe", "header:PatientName"),
    ("Ref: Brown", "header:ReferringPhysicianName"),
])
def test_the_instances_own_header_values_are_flagged(ner, text, reason):
    verdict = judge(boxes(text), HEADER, ner)
    assert verdict.sensitive and reasons_start(verdict, reason), verdict.reasons


@pytest.mark.parametrize("text", ["Doe", "NINEWELLS", "ACCOO42", "Ref: Brown"])
def test_words_that_identify_only_through_the_header(ner, text):
    assert not judge(boxes(text), NO_HEADER, ner).sensitive
    assert judge(boxes(text), HEADER, ner).sensitive


def test_ocr_letters_in_numbers_are_read_as_digits(ner):
    verdict = judge(boxes("24-MAY-O2", "ID l234S67"), NO_HEADER, ner)
    assert verdict.box_sensitive == (True, True)
    assert verdict.reasons == ("date '24-MAY-O2'", "id 'l234S67'")


@pytest.mark.parametrize("text", ["Dr Lee", "Mr A. Patel", "DR LEE", "Prof Okonkwo"])
def test_titled_names(ner, text):
    verdict = judge(boxes(text), NO_HEADER, ner)
    assert verdict.sensitive and verdict.box_sensitive == (True,)


@pytest.mark.parametrize("text", ["MR LIVER", "MR Enterography", "DR CHEST", "MS lesion", "Dr."])
def test_title_like_annotations(ner, text):
    assert not judge(boxes(text), NO_HEADER, ner).sensitive


def test_invalid_nhs_checksum_is_not_flagged(ner):
    assert not judge(boxes("NHS 943 476 5918"), NO_HEADER, ner).sensitive


def test_rules_work_without_ner():
    verdict = judge(boxes("Se:3", "DOE^JOHN", "12/03/1961"), NO_HEADER, None)
    assert verdict.box_sensitive == (False, True, True)
    assert verdict.sensitive


# ----------------------------------------------------------------------------- box mapping

def test_entities_map_to_the_boxes_they_overlap(ner):
    verdict = judge(boxes("W:400 L:40", "Patient:", "John", "Smith", "HFS"), NO_HEADER, ner)
    assert verdict.box_sensitive == (False, False, True, True, False)
    assert "ner:PERSON 'John Smith'" in verdict.reasons


def test_an_entity_swallowing_a_label_does_not_flag_the_label_box(ner):
    # spaCy reads "John Smith DOB" as one PERSON; the "DOB" box holds no name.
    verdict = judge(boxes("John Smith", "DOB", "12/03/1961"), NO_HEADER, ner)
    assert verdict.box_sensitive == (True, False, True)


def test_a_dicom_name_split_across_boxes_flags_both_and_the_image(ner):
    verdict = judge(boxes("DOE^", "XAVIER", "L"), NO_HEADER, ner)
    assert verdict.sensitive
    assert verdict.box_sensitive == (True, True, False)
    assert reasons_start(verdict, "dicom-name")


def test_a_tesseract_reading_of_a_split_name_matches_the_header(ner):
    verdict = judge(boxes("DOE“", "JOHN", "R"), HEADER, ner)
    assert verdict.box_sensitive == (True, True, False)
    assert reasons_start(verdict, "header:PatientName")


def test_a_date_split_across_boxes_is_found(ner):
    verdict = judge(boxes("AP", "12 Mar", "1961"), NO_HEADER, ner)
    assert verdict.sensitive
    assert verdict.box_sensitive == (False, True, True)
    assert verdict.reasons == ("date '12 Mar 1961'",)


def test_an_id_split_across_boxes_matches_the_header(ner):
    verdict = judge(boxes("AB12", "3456", "Se:3"), HEADER, ner)
    assert verdict.box_sensitive == (True, True, False)
    assert reasons_start(verdict, "header:PatientID")


def test_reasons_are_unique_and_in_text_order(ner):
    verdict = judge(boxes("12/03/1961", "John Smith", "12/03/1961"), NO_HEADER, ner)
    assert verdict.reasons[0].startswith("date")
    assert len(verdict.reasons) == len(set(verdict.reasons))


# ----------------------------------------------------------------------------- NER guard

@pytest.mark.parametrize("text, counts", [
    ("John Smith", True), ("NINEWELLS HOSPITAL", True), ("Mary O'Brien", True),
    ("Tom Cox", True), ("Ann McDonald", True), ("New York", True),
    # one word alone never counts (the other rules catch lone names), nor OCR scraps
    ("Katherine", False), ("Trachea", False), ("Meniscus", False), ("Pod Pe", False),
    ("al il t r lea Thal AN", False), ("Sey 4 H He Ha", False),
    ("ABDOMEN", False), ("BRAIN", False), ("PORTABLE", False), ("SAG T1", False),
    ("Mag 1.0", False), ("AP", False), ("Ae", False), ("DOB", False), ("Hospital", False),
    ("Philips Medical Systems", False), ("WW 400 WL", False), ("zhugjy", False),
    ("Wrkt", False), ("Bob", False),
])
def test_entity_guard(text, counts):
    assert entity_counts(text) is counts


def test_meaningful_tokens():
    assert is_meaningful_token("Smith") and is_meaningful_token("NINEWELLS,")
    assert not any(is_meaningful_token(t) for t in ("kVp", "W:400", "DOB", "ll", "12345", "aNd"))


def test_only_person_org_loc_entities_count(ner):
    # spaCy finds NORP, DATE and CARDINAL here (checked below); none of them identifies.
    text = "Scottish Tuesday 120"
    assert {e.label for e in ner.entities(text)} == {"NORP", "DATE", "CARDINAL"}
    assert not judge(boxes(*text.split()), NO_HEADER, ner).sensitive


def test_a_labelled_revision_date_is_the_patients_when_the_header_holds_it(ner):
    """A revision label before a date leaves it alone only while it is no date of the
    instance's: the header's study date stays identifying whatever stands before it."""
    info = InstanceInfo(filename="z.dcm", identifiers=(("StudyDate", "19910301"),))
    assert judge(boxes("Rev. 3/1/91"), info, ner).sensitive
    assert judge(boxes("Ver R6 03/04/2021"), NO_HEADER, ner).sensitive     # the label is not the date's
