"""Review tools over the CSV rows: `scp-scanner report` (one self-contained HTML page) and
`scp-scanner rules` (a pydicom/deid recipe of the identifying boxes per device).

Everything they show or write comes from the CSV rows and the DICOM files those rows name
(pixels and a few device attributes of the header): no other source of identifying data.
"""
