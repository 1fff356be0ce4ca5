"""Build and start the pynetdicom Application Entity from the configuration.

Settings that matter for speed and memory (docs/facts.md "Storage SCP"): a large maximum PDU,
pynetdicom's per-handler logging off, and STORE_RECV_CHUNKED_DATASET so each dataset streams
to a temp file instead of memory (flat RSS for a 90 MB multi-frame instance). The temp files
land in the spool's tmp/ folder (intake.SpoolFile, which also refuses what does not fit) so
the handler can rename them instead of copying. The server is connections.GuardedServer.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pynetdicom import AE, _config, evt

from ..config import ServeConfig
from ..logs import printable
from . import intake
from .access import server_ssl_context
from .connections import GuardedServer, start_guarded
from .contexts import decodable_transfer_syntaxes, storage_contexts, verification_context
from .handlers import Handlers


def configure_pynetdicom(spool_tmp: Path, accept_unknown_sop_classes: bool,
                         min_free_bytes: int = 0, max_pdu: int = 0) -> None:
    """Process-wide pynetdicom settings (it keeps them in module globals) and our hooks."""
    _config.LOG_HANDLER_LEVEL = "none"
    _config.STORE_RECV_CHUNKED_DATASET = True
    _config.UNRESTRICTED_STORAGE_SERVICE = accept_unknown_sop_classes
    intake.install(spool_tmp, min_free_bytes, max_pdu)


def prefer_decodable_syntaxes(syntaxes: list[str]):
    """EVT_REQUESTED handler for unrestricted mode (private/unknown SOP classes accepted).

    pynetdicom's unrestricted negotiation accepts the first proposed transfer syntax of a
    storage context; putting the decodable ones first keeps a PACS from sending a syntax
    the workers cannot read when it offers a readable one too.
    """
    wanted = set(syntaxes)

    def handler(event) -> None:
        primitive = event.assoc.requestor.primitive
        for cx in primitive.presentation_context_definition_list:
            proposed = list(cx.transfer_syntax)
            ordered = [ts for ts in proposed if ts in wanted] + [ts for ts in proposed if ts not in wanted]
            if ordered != proposed:
                cx.transfer_syntax = ordered
    return handler


def build_ae(config: ServeConfig) -> AE:
    net = config.network
    ae = AE(ae_title=net.ae_title)
    ae.maximum_pdu_size = net.max_pdu
    # pynetdicom counts every connection thread (not yet associated, or closing) as an
    # association, so its own limit stays out of the way: the handlers enforce
    # max_associations on established ones, connections.py caps the pending ones.
    ae.maximum_associations = 1 << 20
    ae.acse_timeout = net.acse_timeout
    ae.dimse_timeout = net.dimse_timeout
    ae.network_timeout = net.network_timeout
    ae.require_called_aet = config.access.check_called_ae_title
    ae.require_calling_aet = list(config.access.calling_ae_titles)
    for cx in [verification_context(), *storage_contexts()]:
        ae.add_supported_context(cx.abstract_syntax, cx.transfer_syntax)
    return ae


def start_server(ae: AE, config: ServeConfig, handlers: Handlers) -> GuardedServer:
    """Listen (non-blocking); raises OSError when the port cannot be bound."""
    bindings = handlers.bindings()
    if config.storage.accept_unknown_sop_classes:
        bindings.insert(0, (evt.EVT_REQUESTED, prefer_decodable_syntaxes(
            [str(ts) for ts in decodable_transfer_syntaxes()])))
    net = config.network
    return start_guarded(ae, (net.host, net.port), ssl_context=server_ssl_context(config.tls),
                         evt_handlers=bindings, network_timeout=net.network_timeout,
                         acse_timeout=net.acse_timeout,
                         max_pending=net.max_pending_connections,
                         max_pending_per_address=net.max_pending_per_address)


class _OneLine(logging.Filter):
    """pynetdicom logs a traceback and the peer's raw values for every malformed PDU or
    message; outside -d keep one escaped line (the exception's own message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("pynetdicom"):
            return True
        if record.exc_info:
            record.exc_info = None
            record.exc_text = None
        record.msg = printable(record.getMessage(), 300)
        record.args = ()
        return True


_ONE_LINE = _OneLine()


def quiet_pynetdicom(debug: bool) -> None:
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if debug else logging.WARNING)
    for handler in logging.getLogger().handlers:     # logger filters do not reach children
        if debug:
            handler.removeFilter(_ONE_LINE)
        else:
            handler.addFilter(_ONE_LINE)
