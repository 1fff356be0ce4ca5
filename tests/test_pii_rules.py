"""The PII rules on plain strings: dates, ID numbers, DICOM-style names, given names, header
values matched through OCR confusions, and the allow-list. No NER involved."""
from __future__ import annotations

import pytest

from scp_scanner.pii.rules import (
    find_all,
    find_dates,
    digit_shadow,
    find_addresses,
    find_dicom_names,
    find_given_names,
    find_header_values,
    find_identifiers,
    find_titled_names,
    is_chi_number,
    is_nhs_number,
    mod11_ok,
    prepare_header,
)
from scp_scanner.pii.safe_text import SAFE_WORDS, is_safe_text, is_safe_token

IDENTIFIERS = (
    ("PatientName", "DOE^JOHN^A"),
    ("PatientID", "AB123456"),
    ("OtherPatientIDs", "9988776\\X-4471"),
    ("AccessionNumber", "ACC0042"),
    ("PatientBirthDate", "19610312"),
    ("StudyDate", "20230105"),
    ("InstitutionName", "Ninewells Hospital"),
    ("ReferringPhysicianName", "BROWN^ALICE"),
    ("PatientSex", "M"),
    ("StudyTime", "123045"),
)


def rules_of(hits) -> set[str]:
    return {hit.rule for hit in hits}


# ----------------------------------------------------------------------------- dates

@pytest.mark.parametrize("text, reading", [
    ("19610312", (1961, 3, 12)),               # DICOM DA
    ("1961-03-12", (1961, 3, 12)),
    ("1961/03/12", (1961, 3, 12)),
    ("12/03/1961", (1961, 3, 12)),             # DD/MM/YYYY
    ("03/12/1961", (1961, 3, 12)),             # MM/DD/YYYY
    ("12-03-1961", (1961, 3, 12)),
    ("12.03.1961", (1961, 3, 12)),
    ("12.3.61", (61, 3, 12)),                  # two-digit year
    ("12/03/61", (61, 3, 12)),
    ("12-Mar-1961", (1961, 3, 12)),
    ("12-MAR-61", (61, 3, 12)),
    ("12 Mar 1961", (1961, 3, 12)),
    ("12Mar1961", (1961, 3, 12)),
    ("12th March 1961", (1961, 3, 12)),
    ("March 12, 1961", (1961, 3, 12)),
    ("Mar 12 1961", (1961, 3, 12)),
    ("1961 Mar 12", (1961, 3, 12)),
    ("DOB: 25/12/2001 ", (2001, 12, 25)),
    ("Study 05 Jan 23", (23, 1, 5)),
])
def test_dates_in_common_formats_are_found_and_read(text, reading):
    hits = find_dates(text)
    assert len(hits) == 1, hits
    assert reading in hits[0].readings
    assert text[hits[0].start:hits[0].end] == hits[0].text


def test_month_and_year_alone_is_a_date():
    hits = find_dates("Scanned March 2023")
    assert [h.text for h in hits] == ["March 2023"]


@pytest.mark.parametrize("text", [
    "3/4", "1/45", "Im 12/120", "12:30:45", "W:400 L:40", "13/13/2020", "31/02/2020",
    "00/00/0000", "1.2.840.10008.1.2.1", "V3.5.12", "512x512", "120 kVp 250 mAs",
    "Mayor", "Marker 12", "TI 2000 TR 4500", "12345678.5", "1234 5678", "SpO2 98%",
])
def test_things_that_are_not_dates(text):
    assert find_dates(text) == []


# ----------------------------------------------------------------------------- identifiers

def test_mod11_checksum_of_nhs_numbers():
    assert mod11_ok("9434765919")            # the NHS's own example number
    assert is_nhs_number("9434765919")
    assert not is_nhs_number("9434765918")   # wrong check digit
    assert not is_nhs_number("1234567890")   # check digit would be 10: invalid
    assert not is_nhs_number("943476591")    # nine digits


@pytest.mark.parametrize("text", ["943 476 5919", "943-476-5919", "NHS No: 9434765919"])
def test_valid_nhs_numbers_are_found_in_any_spacing(text):
    hits = find_identifiers(text)
    assert rules_of(hits) == {"nhs"}


def test_spaced_ten_digits_with_a_bad_checksum_are_not_an_nhs_number():
    assert find_identifiers("943 476 5918") == []
    assert find_identifiers("123 456 7890") == []


def test_chi_numbers_need_a_date_and_a_checksum():
    assert is_chi_number("1203611234")       # 12/03/61, valid check digit
    assert not is_chi_number("1203611235")   # check digit wrong
    # a valid mod-11 number whose first six digits are no date is an NHS number, not CHI
    assert mod11_ok("9434765919") and not is_chi_number("9434765919")
    assert rules_of(find_identifiers("CHI 1203611234")) == {"chi"}
    assert rules_of(find_identifiers("CHI 120361 1234")) == {"chi"}
    assert "chi" not in rules_of(find_identifiers("120361 1235"))   # (120361 is still a 6-digit run)


@pytest.mark.parametrize("text, found", [
    ("MRN 1234567", "1234567"),
    ("ID: 00123456", "00123456"),
    ("Acc# A20230105", "20230105"),
    ("HOSP NO 123456", "123456"),
])
def test_long_digit_runs_are_identifiers(text, found):
    hits = find_identifiers(text)
    assert [h.text for h in hits] == [found]
    assert hits[0].rule == "id"


@pytest.mark.parametrize("text", [
    "512", "120 kVp", "250 mAs", "W 1500 L -600", "TR 4500 TE 90", "512x512", "1024x1024",
    "Se:3 Im:45", "0.000001", "12345", "DLP 1234.56 mGycm", "000000", "1111111",
    "Frq 15000", "Table 123.5 mm", "SOLO 45",
])
def test_acquisition_numbers_are_not_identifiers(text):
    assert find_identifiers(text) == []


def test_dotted_uids_are_identifiers():
    assert rules_of(find_identifiers("1.2.826.0.1.3680043.8.498.1")) == {"uid"}


# ----------------------------------------------------------------------------- DICOM names

@pytest.mark.parametrize("text", [
    "DOE^JOHN", "DOE“JOHN", "DOE”JOHN", 'DOE"JOHN', "O'NEIL^MARY", "SMITH^J", "NG^WEI",
    "Patient DOE^JOHN^A^^ 12", "DOE“ JOHN",
])
def test_dicom_style_names_are_found(text):
    assert rules_of(find_dicom_names(text)) == {"dicom-name"}


@pytest.mark.parametrize("text", [
    'W“L', "Se“Im", 'HEAD"CT', 'Ae"ll', 'Protocol “Chest”', "T2*GRE", "DOE JOHN", 'ax"cor',
])
def test_things_that_are_not_dicom_names(text):
    assert find_dicom_names(text) == []


def test_given_names_catch_capitalised_names_ner_misses():
    assert [h.text for h in find_given_names("SARAH WHITTAKER 12")] == ["SARAH"]
    assert [h.text for h in find_given_names("SMITH JOHN")] == ["JOHN"]
    assert find_given_names("MARKER PORTABLE CHEST Mayo") == []
    assert [h.text for h in find_given_names("Sara Khan")] == ["Sara"]
    assert find_given_names("5 sara W:400") == []      # small letters: a misread, not a name


def test_titled_names():
    assert [h.text for h in find_titled_names("Ref: Dr A. Brown, Mrs Okafor")] == ["Dr A. Brown", "Mrs Okafor"]
    assert find_titled_names("MR LIVER MS Lesion DR CHEST Dr.") == []


@pytest.mark.parametrize("text, found", [
    ("12 High Street, Dundee", "12 High Street"),
    ("Flat 3, 45 Queen's Road", "45 Queen's Road"),
    ("DD1 9SY", "DD1 9SY"),
    ("EH16 4SA", "EH16 4SA"),
    ("SW1A 1AA", "SW1A 1AA"),
])
def test_addresses_and_postcodes(text, found):
    assert [h.text for h in find_addresses(text)] == [found]


@pytest.mark.parametrize("text", ["L4 5MM", "C5 1", "120 kVp", "Se 3 Im 45", "3 Views",
                                  "2 Lateral View", "3 Oblique Views"])
def test_not_addresses(text):
    assert find_addresses(text) == []


def test_digit_shadow_puts_digits_back_next_to_digits_only():
    assert digit_shadow("24-MAY-O2 ID l234S67 Se:3 SOLO T1 L1") == "24-MAY-02 ID 1234567 Se:3 SOLO T1 L1"
    assert len(digit_shadow("OlS|")) == 4


# ----------------------------------------------------------------------------- header values

def header_rules(text: str, identifiers=IDENTIFIERS) -> set[str]:
    return rules_of(find_header_values(text, identifiers))


@pytest.mark.parametrize("text, rule", [
    ("AB123456", "header:PatientID"),
    ("ab 123456", "header:PatientID"),
    ("AB l234S6", "header:PatientID"),           # 1 read as l, 5 as S
    ("AB-I23456", "header:PatientID"),           # 1 read as I
    ("ID:AB123456", "header:PatientID"),
    ("9988776", "header:OtherPatientIDs"),
    ("X 4471", "header:OtherPatientIDs"),        # second value of a multi-valued attribute
    ("ACCOO42", "header:AccessionNumber"),       # 0 read as O
    ("Acc: ACC 0042", "header:AccessionNumber"),
    ("Ninewells", "header:InstitutionName"),
    ("NINEWELLS HOSPITAL", "header:InstitutionName"),
    ("Dr Brown", "header:ReferringPhysicianName"),
])
def test_header_values_are_matched_through_ocr_confusions(text, rule):
    assert rule in header_rules(text)


@pytest.mark.parametrize("text", ["john doe", "DOE“JOHN", "Doe, John", "DOE JOHN A"])
def test_patient_name_parts_are_matched(text):
    hits = find_header_values(text, IDENTIFIERS)
    assert {h.text.lower() for h in hits if h.rule == "header:PatientName"} == {"doe", "john"}


@pytest.mark.parametrize("text", [
    "12/03/1961", "03/12/1961", "1961-03-12", "12-Mar-1961", "12 MAR 61", "120361",
    "12.03.61", "19610312", "12 O3 1961", "March 12, 1961",
])
def test_birth_date_is_matched_in_any_format(text):
    assert "header:PatientBirthDate" in rules_of(find_all(text, IDENTIFIERS))


def test_study_date_is_matched():
    assert "header:StudyDate" in rules_of(find_all("Exam 05/01/2023", IDENTIFIERS))


@pytest.mark.parametrize("text", [
    "1234567",          # PatientID-like digits inside a longer number: no header match
    "Hospital",         # a generic word of the institution name alone
    "Se:12 Im:3",
    "M",
    "12:30:45 123045",  # StudyTime is not searched
    "Joanne",           # 'john'... no; 'doe'/'ann' never match inside words
    "11",               # not 'LI' of a name through the 1/l confusion
])
def test_header_values_do_not_match_where_they_should_not(text):
    identifiers = IDENTIFIERS + (("OtherPatientIDs", "4567"), ("PatientID", "12"),
                                 ("OtherPatientNames", "LI^NA"))
    assert header_rules(text, identifiers) == set()


def test_short_placeholder_and_ignored_values_are_not_searched():
    needles = prepare_header((
        ("PatientID", "12"), ("PatientName", "ANONYMOUS"), ("PatientName", "X^AP^JO"),
        ("PatientSex", "F"), ("PatientAge", "045Y"), ("StudyTime", "101010"),
    ))
    assert [(n.keyword, n.folded) for n in needles] == [("PatientName", "j0")]


def test_header_values_that_are_annotations_are_not_searched():
    identifiers = (("PatientName", "CHEST^PHANTOM"), ("InstitutionName", "Philips Healthcare"),
                   ("StudyDescription", "CT HEAD"))
    assert prepare_header(identifiers) == ()
    assert find_all("CHEST PA Philips Healthcare CT HEAD", identifiers) == []


def test_identifiers_given_as_lists_work():
    hits = find_all("DOE XAVIER", [["PatientName", "DOE^XAVIER"]])
    assert rules_of(hits) == {"header:PatientName"}


def test_two_letter_name_parts_match_only_capitalised_words():
    identifiers = (("PatientName", "AL^JO"),)
    assert rules_of(find_header_values("Jo AL", identifiers)) == {"header:PatientName"}
    assert find_header_values("al il jo", identifiers) == []


def test_header_preparation_is_cached_per_identifier_tuple():
    assert prepare_header(IDENTIFIERS) is prepare_header(IDENTIFIERS)


# ----------------------------------------------------------------------------- allow-list

@pytest.mark.parametrize("token", [
    "L", "R", "AP", "PA", "LAT", "kVp", "mAs", "mA", "W/L", "WL", "WW", "W:400", "L:40",
    "Se/Im", "Se:3", "Im:45", "Im:45/120", "mm", "cm", "5.0mm", "120kVp", "HFS", "FFS",
    "SUPINE", "PRONE", "ABDOMEN", "CHEST", "HEAD", "C+", "CT", "MR", "US", "T2", "b1000",
    "x1.5", "3.0T", "512x512", "|", "—", "SIEMENS", "FLAIR", "Zoom", "DFOV",
])
def test_safe_tokens(token):
    assert is_safe_token(token)


@pytest.mark.parametrize("token", ["John", "Ninewells", "DOE^JOHN", "Smith", "Dundee", "12/03/1961"])
def test_identifying_tokens_are_not_safe(token):
    assert not is_safe_token(token)


def test_safe_text_and_words_are_lower_case():
    assert is_safe_text("W:400 L:40 Se:3 Im:45 HFS")
    assert not is_safe_text("W:400 John")
    assert all(word == word.lower() for word in SAFE_WORDS)


def test_header_values_follow_the_rule_parameters():
    """RuleParams passed in decide what is sought: an ID shorter than min_id is not."""
    from scp_scanner.pii.rules import RULES, RuleParams
    text = "Acc ACC0042 ID AB123456"
    assert "header:AccessionNumber" in rules_of(find_header_values(text, IDENTIFIERS, RULES))
    strict = RuleParams(min_id=8)
    found = rules_of(find_header_values(text, IDENTIFIERS, strict))
    assert "header:AccessionNumber" not in found and "header:PatientID" in found


@pytest.mark.parametrize("text, dates", [
    ("SMPTE TEST PATTERN Rev. 3/1/91 Copyright", []),
    ("Version 2/14/2003", []),
    ("(c) 12/05/2004", []),
    ("Rev: 12-May-2020", []),
    ("DOB 3/1/91", ["3/1/91"]),
    ("Reviewed 03/04/2021", ["03/04/2021"]),          # no label: a word that starts like one
    ("Ver R6 03/04/2021 10:22", ["03/04/2021"]),      # the label stands before something else
])
def test_a_date_labelled_as_a_revision_version_or_copyright_is_no_persons(text, dates):
    assert [h.text for h in find_all(text) if h.rule == "date"] == dates
