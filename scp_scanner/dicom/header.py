"""Header facts of one instance (InstanceInfo): the CSV's descriptive columns and the
identifying values that the PII rules look for in OCR text.

Values are read defensively: one damaged element (bad VR, bad character set) must not make
the whole instance unreadable, so it is skipped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pydicom
from pydicom.multival import MultiValue

from ..model import InstanceInfo

log = logging.getLogger(__name__)

# Header attributes that identify a person, a place or a time of care.
IDENTIFYING_KEYWORDS: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "AccessionNumber",
    "PatientBirthDate",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "OperatorsName",
    "RequestingPhysician",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "StationName",
    "DeviceSerialNumber",
)


def _values(ds: pydicom.Dataset, keyword: str) -> list[str]:
    """The non-empty string values of one element (one per value when multi-valued)."""
    try:
        elem = ds.data_element(keyword)
        if elem is None or elem.VR == "SQ":
            return []
        value = elem.value
    except Exception as exc:  # damaged element: skip it, keep the rest
        log.debug("cannot read %s: %s", keyword, exc)
        return []
    if value is None:
        return []
    items = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, bytes):
            text = item.decode("latin-1", errors="replace")
        else:
            text = str(item)
        text = text.strip().strip("\x00").strip()
        if text:
            out.append(text)
    return out


def _image_type(ds: pydicom.Dataset) -> str:
    """ImageType values joined with '/', empty values kept in place (the reference's form:
    `CSA MPR//CSAPARALLEL`, so that position N is still value N)."""
    try:
        elem = ds.data_element("ImageType")
        value = None if elem is None else elem.value
    except Exception as exc:  # damaged element: skip it, keep the rest
        log.debug("cannot read ImageType: %s", exc)
        return ""
    if value is None:
        return ""
    items = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
    texts = [(item.decode("latin-1", errors="replace") if isinstance(item, bytes) else str(item))
             for item in items]
    return "/".join(text.strip().strip("\x00").strip() for text in texts)


def manufacturer_of(ds: pydicom.Dataset) -> str:
    """The CSV `manufacturer`: ManufacturerModelName; if empty, Manufacturer + ' ' +
    SoftwareVersions; if those are empty too, the secondary-capture device in the same shape:
    SecondaryCaptureDeviceManufacturerModelName, else SecondaryCaptureDeviceManufacturer + ' ' +
    SecondaryCaptureDeviceSoftwareVersions. Multi-valued values are joined with a backslash,
    as stored; an instance with none of these gets an empty string."""
    for model, maker, software in (
            ("ManufacturerModelName", "Manufacturer", "SoftwareVersions"),
            ("SecondaryCaptureDeviceManufacturerModelName", "SecondaryCaptureDeviceManufacturer",
             "SecondaryCaptureDeviceSoftwareVersions")):
        text = _joined(ds, model) or f"{_joined(ds, maker)} {_joined(ds, software)}".strip()
        if text:
            return text
    return ""


def _joined(ds: pydicom.Dataset, keyword: str) -> str:
    """All values of an element joined by backslash, as DICOM stores them."""
    return "\\".join(_values(ds, keyword))


def _identifiers(ds: pydicom.Dataset) -> Iterator[tuple[str, str]]:
    for keyword in IDENTIFYING_KEYWORDS:
        for value in _values(ds, keyword):
            yield keyword, value
        if keyword == "OtherPatientIDs":
            # The sequence form of other IDs; reported under the same keyword so rules
            # treat them as patient identifiers.
            try:
                items = ds.get("OtherPatientIDsSequence") or []
                for item in items:
                    for value in _values(item, "PatientID"):
                        yield keyword, value
            except Exception as exc:  # a damaged sequence: skip it, keep the rest
                log.debug("cannot read OtherPatientIDsSequence: %s", exc)


def instance_info(ds: pydicom.Dataset, filename: str) -> InstanceInfo:
    """The InstanceInfo of a dataset; `filename` is what goes in the CSV filename column."""
    seen: set[tuple[str, str]] = set()
    identifiers = []
    for pair in _identifiers(ds):
        if pair not in seen:
            seen.add(pair)
            identifiers.append(pair)
    return InstanceInfo(
        filename=filename,
        sop_instance_uid=_joined(ds, "SOPInstanceUID"),
        imagetype=_image_type(ds),
        manufacturer=manufacturer_of(ds),
        burnedinannotation=_joined(ds, "BurnedInAnnotation"),
        identifiers=tuple(identifiers),
    )
