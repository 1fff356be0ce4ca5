"""Which presentation contexts the SCP accepts: every storage SOP class, every syntax we decode.

A PACS that finds its stored transfer syntax accepted sends the instance as it is; one that
does not must transcode (lossy, slow, or impossible without a plugin: docs/facts.md, "Orthanc
as a peer"). So the SCP offers every transfer syntax pydicom can decode here, asked of
pydicom's own decoders so that a missing pylibjpeg plugin removes its syntaxes instead of
accepting files that the workers then cannot read.
"""
from __future__ import annotations

from pydicom.uid import (UID, AllTransferSyntaxes, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
                         ExplicitVRLittleEndian, ImplicitVRLittleEndian)
from pynetdicom import AllStoragePresentationContexts, build_context
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification

# The uncompressed syntaxes first: they need no decoder plugin.
_NATIVE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
           ExplicitVRBigEndian)


def decodable_transfer_syntaxes() -> list[UID]:
    """Uncompressed syntaxes plus every compressed one with an available pydicom decoder,
    and the video syntaxes when PyAV is installed."""
    from pydicom.pixels import get_decoder

    from ..dicom.video import VIDEO_SYNTAXES, video_decoder_available

    syntaxes = list(_NATIVE)
    video = video_decoder_available()
    for uid in AllTransferSyntaxes:       # get_decoder raises for a syntax with no decoder
        uid = UID(uid)
        if uid in syntaxes:
            continue
        if uid in VIDEO_SYNTAXES:        # decoded through PyAV (dicom/video.py), not pydicom
            if video:
                syntaxes.append(uid)
            continue
        try:
            if get_decoder(uid).is_available:
                syntaxes.append(uid)
        except (NotImplementedError, ValueError):
            continue
    return syntaxes


def storage_contexts(transfer_syntaxes: list[UID] | None = None) -> list[PresentationContext]:
    """One context per standard storage SOP class, each with all the given syntaxes."""
    syntaxes = transfer_syntaxes or decodable_transfer_syntaxes()
    return [build_context(cx.abstract_syntax, syntaxes) for cx in AllStoragePresentationContexts]


def verification_context() -> PresentationContext:
    return build_context(Verification, [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                                        ExplicitVRBigEndian])
