"""Catalog writes: spreadsheet imports (``imports``) and product writes (``products``).

Every public name is re-exported here, so callers keep ``from catalog import services``. A test
that patches a module-level name patches it where it is looked up (``services.imports``).
"""

from catalog.services.imports import (
    AUDIT_DETAIL_MAX,
    BACKGROUND_BYTES,
    CRASHED,
    INTERNAL_ERROR,
    STALLED,
    import_batch_choose_edits,
    import_batch_from_path,
    import_batch_process,
    import_batch_start,
    import_batches_fail_stalled,
)
from catalog.services.products import (
    product_set_classification,
    product_update_facts,
    product_upsert,
    products_set_classification,
)

__all__ = [
    "AUDIT_DETAIL_MAX",
    "BACKGROUND_BYTES",
    "CRASHED",
    "INTERNAL_ERROR",
    "STALLED",
    "import_batch_choose_edits",
    "import_batch_from_path",
    "import_batch_process",
    "import_batch_start",
    "import_batches_fail_stalled",
    "product_set_classification",
    "product_update_facts",
    "product_upsert",
    "products_set_classification",
]
