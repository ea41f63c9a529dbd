"""Kombo's unified HRIS API behind the HRConnector Protocol, through the official `kombo` SDK.

`mapping` is pure (Kombo's employee JSON → SourceEmployee), `errors` turns SDK failures into
ConnectorErrors, `client` holds the connector itself.
"""

from staffsync.connectors.kombo.client import DEFAULT_SERVER_URL, MAX_PAGE_SIZE, KomboConnector, retry_config
from staffsync.connectors.kombo.errors import KomboErrorTranslator
from staffsync.connectors.kombo.mapping import (
    EMPLOYMENT_STATUSES,
    EMPLOYMENT_TYPES,
    InvalidKomboRecord,
    KomboCatalogue,
    KomboGroup,
    KomboPlace,
    catalogue_needs,
    local_date,
    to_source_employee,
)

__all__ = [
    "DEFAULT_SERVER_URL",
    "EMPLOYMENT_STATUSES",
    "EMPLOYMENT_TYPES",
    "MAX_PAGE_SIZE",
    "InvalidKomboRecord",
    "KomboCatalogue",
    "KomboConnector",
    "KomboErrorTranslator",
    "KomboGroup",
    "KomboPlace",
    "catalogue_needs",
    "local_date",
    "retry_config",
    "to_source_employee",
]
