"""scp-scanner: find identifying text burned into DICOM images (Storage SCP + offline scanner)."""
__version__ = "0.1.0"
