"""Build and start the pynetdicom Application Entity from the configuration.

Settings that matter for speed and memory (FACTS "Storage SCP"): a large maximum PDU,
pynetdicom's per-handler logging off, and STORE_RECV_CHUNKED_DATASET so each dataset streams
to a temp file instead of memory (flat RSS for a 90 MB multi-frame instance). The temp files
must land in the spool's tmp/ folder so the handler can rename them instead of copying:
pynetdicom creates them with tempfile.NamedTemporaryFile(), so tempfile.tempdir points there.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from pynetdicom import AE, _config, evt
from pynetdicom.transport import ThreadedAssociationServer

from ..config import ServeConfig
from .access import server_ssl_context
from .contexts import decodable_transfer_syntaxes, storage_contexts, verification_context
from .handlers import Handlers


def configure_pynetdicom(spool_tmp: Path, accept_unknown_sop_classes: bool) -> None:
    """Process-wide pynetdicom settings (it keeps them in module globals)."""
    _config.LOG_HANDLER_LEVEL = "none"
    _config.STORE_RECV_CHUNKED_DATASET = True
    _config.UNRESTRICTED_STORAGE_SERVICE = accept_unknown_sop_classes
    tempfile.tempdir = str(spool_tmp)


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
    ae.maximum_associations = net.max_associations
    ae.acse_timeout = net.acse_timeout
    ae.dimse_timeout = net.dimse_timeout
    ae.network_timeout = net.network_timeout
    ae.require_called_aet = config.access.check_called_ae_title
    ae.require_calling_aet = list(config.access.calling_ae_titles)
    for cx in [verification_context(), *storage_contexts()]:
        ae.add_supported_context(cx.abstract_syntax, cx.transfer_syntax)
    return ae


def start_server(ae: AE, config: ServeConfig, handlers: Handlers) -> ThreadedAssociationServer:
    """Listen (non-blocking); raises OSError when the port cannot be bound."""
    bindings = handlers.bindings()
    if config.storage.accept_unknown_sop_classes:
        bindings.insert(0, (evt.EVT_REQUESTED, prefer_decodable_syntaxes(
            [str(ts) for ts in decodable_transfer_syntaxes()])))
    server = ae.start_server((config.network.host, config.network.port), block=False,
                             evt_handlers=bindings, ssl_context=server_ssl_context(config.tls))
    assert server is not None
    return server


def quiet_pynetdicom(debug: bool) -> None:
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if debug else logging.WARNING)
