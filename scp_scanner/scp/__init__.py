"""The Storage SCP (`scp-scanner serve`): receive -> spool -> workers -> rolling CSV.

ae.py builds the pynetdicom AE, handlers.py answers C-ECHO/C-STORE (ingest only, never
processing), spool.py and ledger.py make instances and their rows durable exactly once,
processor.py feeds spooled instances to the worker pool (scheduler.py decides what runs,
tasks.py is what runs there) and owns the CSV writer, and service.py wires them together
behind `run_serve` (its flags: arguments.py `add_serve_arguments`).
"""
